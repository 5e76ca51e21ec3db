/**
 * Crypto benchmark: the node:crypto primitives that bound what is possible, the envelope encryption of
 * a record (signed and unsigned suites, one message vs one per field), CloudFront FLE decryption, the
 * handler's crypto per create, and KMS calls under caching. Times are the best of interleaved rounds
 * (see timing.ts); ratios compare figures measured in the same run.
 */
import {
  constants,
  createCipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  sign,
  verify,
} from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { PartitionedCachingMaterialsManager } from "../packages/crypto/src/caching-cmm.ts";
import { DataKeyCache } from "../packages/crypto/src/data-key-cache.ts";
import {
  createEnvelopeCrypto,
  decryptFleField,
  decryptFleForm,
  type EnvelopeCrypto,
  encryptFleField,
  encryptFleForm,
  envelopeSuites,
} from "../packages/crypto/src/index.ts";
import { KmsDecryptFailures } from "../packages/crypto/src/kms-client.ts";
import { zeroMaterial } from "../packages/crypto/src/materials.ts";
import {
  createKmsStandIn,
  generateFleKeyPair,
  type KmsStandIn,
  stockSdk,
} from "../packages/crypto/src/testing/index.ts";
import { round, timeCases } from "./timing.ts";
import type { BenchModule, Metric } from "./types.ts";

const {
  buildClient,
  CommitmentPolicy,
  getLocalCryptographicMaterialsCache,
  KmsKeyringNode,
  NodeCachingMaterialsManager,
  NodeDefaultCryptographicMaterialsManager,
  RawRsaKeyringNode,
} = stockSdk;

/** A realistic record: the 7 sensitive fields of the classification. */
const record = {
  fullName: "Maria Fernanda Oliveira",
  dateOfBirth: "1984-03-17",
  insuranceNumber: "A123456789",
  email: "maria.oliveira@example.org",
  phone: "+49 30 1234567",
  diagnosis: "Type 2 diabetes mellitus without complications; hypertension, essential. ".repeat(3),
  notes: "Follow-up in three months. Patient reports improved adherence to medication. ".repeat(5),
};
const fieldNames = Object.keys(record) as Array<keyof typeof record>;
const fleNames = { providerId: "veil-fle", keyName: "veil-fle-key" };
const app = { app: "veil", stage: "bench" };

function envelopeFor(kms: KmsStandIn, suite: "unsigned" | "signed" = "unsigned"): EnvelopeCrypto {
  return createEnvelopeCrypto({
    ...app,
    suite,
    kms: { keyId: kms.keyArn, clientProvider: kms.clientProvider },
  });
}

const us = (value: number, note: string, goal?: Metric["goal"]): Metric => ({
  value: round(value),
  unit: "µs",
  note,
  ...(goal ? { goal } : {}),
});
const ratio = (value: number, note: string, goal?: Metric["goal"]): Metric => ({
  value: round(value, 3),
  unit: "×",
  note,
  ...(goal ? { goal } : {}),
});

async function kmsCallFigures(): Promise<Record<string, Metric>> {
  // Sequential writes of different records.
  const sequential = createKmsStandIn();
  const writer = envelopeFor(sequential);
  for (let i = 0; i < 1000; i++) {
    await writer.encryptFields(record, {
      ownerId: `owner-${i % 37}`,
      recordId: `rec-${i}`,
      purpose: "record",
    });
  }
  // A cold burst: 50 concurrent first encrypts, KMS answering in 5 ms.
  const burst = createKmsStandIn({ latencyMs: 5 });
  const cold = envelopeFor(burst);
  await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      cold.encryptFields(record, { ownerId: "owner", recordId: `rec-${i}`, purpose: "record" }),
    ),
  );
  // Reads of 1000 different records sharing a data key, by a fresh reader.
  const reads = createKmsStandIn();
  const readWriter = envelopeFor(reads);
  const stored: Array<{ id: string; ciphertext: Uint8Array }> = [];
  for (let i = 0; i < 1000; i++) {
    const ctx = { ownerId: "owner", recordId: `rec-${i}`, purpose: "record" };
    stored.push({ id: ctx.recordId, ciphertext: await readWriter.encryptFields(record, ctx) });
  }
  const reader = envelopeFor(reads);
  reads.resetCalls();
  for (const { id, ciphertext } of stored) {
    await reader.decryptFields(ciphertext, { ownerId: "owner", recordId: id, purpose: "record" });
  }

  // The stock caching CMM for comparison: per-record contexts, and a burst with one shared context.
  const stock = createKmsStandIn();
  const stockBurst = createKmsStandIn({ latencyMs: 5 });
  const stockClient = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
  const stockCmm = (kms: KmsStandIn) =>
    new NodeCachingMaterialsManager({
      backingMaterials: new KmsKeyringNode({
        generatorKeyId: kms.keyArn,
        clientProvider: kms.clientProvider as never,
      }),
      cache: getLocalCryptographicMaterialsCache(1000),
      maxAge: 300_000,
      maxMessagesEncrypted: 10_000,
      partition: "bench",
    });
  const plaintext = Buffer.from(JSON.stringify(record));
  const perRecord = stockCmm(stock);
  for (let i = 0; i < 1000; i++) {
    await stockClient.encrypt(perRecord, plaintext, {
      encryptionContext: { ...app, ownerId: "owner", recordId: `rec-${i}`, purpose: "record" },
      suiteId: envelopeSuites.unsigned,
    });
  }
  const shared = stockCmm(stockBurst);
  await Promise.all(
    Array.from({ length: 50 }, () =>
      stockClient.encrypt(shared, plaintext, {
        encryptionContext: { ...app, purpose: "record" },
        suiteId: envelopeSuites.unsigned,
      }),
    ),
  );

  return {
    kms_calls_per_1000_writes: {
      value: sequential.calls.generateDataKey,
      unit: "calls",
      goal: { max: 1 },
      note: "GenerateDataKey for 1000 sequential writes of different records",
    },
    kms_calls_cold_burst_50: {
      value: burst.calls.generateDataKey,
      unit: "calls",
      goal: { min: 1, max: 1 },
      note: "GenerateDataKey for 50 concurrent first encrypts (KMS latency 5 ms)",
    },
    kms_decrypt_calls_per_1000_reads: {
      value: reads.calls.decrypt,
      unit: "calls",
      note: "KMS Decrypt for 1000 reads of different records by a fresh reader",
    },
    kms_calls_per_1000_writes_stock_caching_cmm: {
      value: stock.calls.generateDataKey,
      unit: "calls",
      note: "same with the SDK's caching CMM (whole context in its cache key)",
    },
    kms_calls_cold_burst_50_stock_caching_cmm: {
      value: stockBurst.calls.generateDataKey,
      unit: "calls",
      note: "same burst, SDK caching CMM, one shared context (no single-flight)",
    },
  };
}

async function streamThroughput(envelope: EnvelopeCrypto, mib: number): Promise<number> {
  const chunk = randomBytes(64 * 1024);
  let sent = 0;
  const total = mib * 1024 * 1024;
  const source = new Readable({
    read() {
      if (sent >= total) return void this.push(null);
      sent += chunk.length;
      this.push(Buffer.from(chunk));
    },
  });
  const sink = new Writable({
    write(_c, _e, done) {
      done();
    },
  });
  const ctx = { ownerId: "owner", recordId: "image-1", purpose: "image" };
  const start = performance.now();
  await pipeline(envelope.decryptStream(envelope.encryptStream(source, ctx), ctx), sink);
  return mib / ((performance.now() - start) / 1000);
}

const bench: BenchModule = {
  name: "crypto",
  description: "node:crypto primitives, envelope encryption, FLE decryption, KMS calls",
  async run({ quick, log }) {
    const rounds = quick ? 4 : 60;

    // Keys and fixtures, all generated now.
    const rsa = generateFleKeyPair();
    const rsaPrivate = createPrivateKey(rsa.privateKeyPem);
    const rsaPublic = createPublicKey(rsa.publicKeyPem);
    const oaep = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" };
    const wrappedKey = publicEncrypt({ key: rsa.publicKeyPem, ...oaep }, randomBytes(32));
    const ecdsa = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const toSign = randomBytes(256);
    const signature = sign("sha384", toSign, ecdsa.privateKey);
    const aesKey = randomBytes(32);
    const small = randomBytes(200);
    const mib = randomBytes(1024 * 1024);
    const aesGcm = (data: Buffer) => {
      const cipher = createCipheriv("aes-256-gcm", aesKey, randomBytes(12));
      cipher.update(data);
      cipher.final();
      return cipher.getAuthTag();
    };

    const kms = createKmsStandIn();
    const unsigned = envelopeFor(kms);
    const signed = envelopeFor(kms, "signed");
    const ctx = { ownerId: "owner-1", recordId: "rec-1", purpose: "record" };
    const fieldCtx = (f: string) => ({ ...ctx, purpose: `record.${f}` });
    const plaintextFields = Object.fromEntries(fieldNames.map((f) => [f, Buffer.from(record[f])]));
    let seq = 0;
    const nextCtx = () => ({ ...ctx, recordId: `rec-${++seq}` });
    const unsignedRecord = await unsigned.encryptFields(record, ctx);
    const signedRecord = await signed.encryptFields(record, ctx);
    const perField = Object.fromEntries(
      await Promise.all(
        fieldNames.map(
          async (f) => [f, await unsigned.encryptBytes(plaintextFields[f]!, fieldCtx(f))] as const,
        ),
      ),
    );
    const perFieldBytes = Object.values(perField).reduce((n, c) => n + c.byteLength, 0);

    // The SDK's own stream-based client over the same materials manager, for comparison.
    const keyring = new KmsKeyringNode({
      generatorKeyId: kms.keyArn,
      clientProvider: kms.clientProvider as never,
    });
    const limits = { maxAgeMs: 300_000, maxMessages: 1e6, maxBytes: 1e12, maxEntries: 100 };
    const sharedCmm = new PartitionedCachingMaterialsManager(
      new NodeDefaultCryptographicMaterialsManager(keyring),
      {
        encrypt: new DataKeyCache<stockSdk.NodeEncryptionMaterial>(limits, zeroMaterial),
        decrypt: new DataKeyCache<stockSdk.NodeDecryptionMaterial>(limits, zeroMaterial),
      },
      new KmsDecryptFailures(),
    );
    const stockClient = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
    const recordJson = Buffer.from(JSON.stringify(record));
    const messageContext = { ...app, ...ctx };
    const stockRecord = (
      await stockClient.encrypt(sharedCmm, recordJson, {
        encryptionContext: messageContext,
        suiteId: envelopeSuites.unsigned,
      })
    ).result;

    // FLE: one field, and the whole create form, as CloudFront would send them.
    const fleEncrypt = { publicKeyPem: rsa.publicKeyPem, ...fleNames };
    const fleDecrypt = { privateKeyPem: rsa.privateKeyPem, ...fleNames };
    const fleValue = await encryptFleField(record.fullName, fleEncrypt);
    const fleBytes = Buffer.from(fleValue, "base64");
    const form = await encryptFleForm(
      new URLSearchParams({ category: "general", ...record }).toString(),
      fleEncrypt,
    );
    const fleKeyring = new RawRsaKeyringNode({
      keyNamespace: fleNames.providerId,
      keyName: fleNames.keyName,
      rsaKey: { privateKey: rsaPrivate as never },
      oaepHash: "sha256",
    });
    const fleClient = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT);

    log(`timing ${rounds} interleaved rounds…`);
    const t = await timeCases(
      {
        rsaDecrypt: { run: () => privateDecrypt({ key: rsaPrivate, ...oaep }, wrappedKey), batch: 40 },
        rsaEncrypt: {
          run: () => publicEncrypt({ key: rsaPublic, ...oaep }, small.subarray(0, 32)),
          batch: 100,
        },
        aesGcm200: { run: () => aesGcm(small), batch: 1000 },
        aesGcm1MiB: { run: () => aesGcm(mib), batch: 8 },
        ecdsaSign: { run: () => sign("sha384", toSign, ecdsa.privateKey), batch: 20 },
        ecdsaVerify: { run: () => verify("sha384", toSign, ecdsa.publicKey, signature), batch: 20 },
        sha256MiB: { run: () => createHash("sha256").update(mib).digest(), batch: 8 },

        encUnsigned: { run: () => unsigned.encryptFields(record, nextCtx()), batch: 100 },
        decUnsigned: { run: () => unsigned.decryptFields(unsignedRecord, ctx), batch: 100 },
        encSigned: { run: () => signed.encryptFields(record, nextCtx()), batch: 15 },
        decSigned: { run: () => signed.decryptFields(signedRecord, ctx), batch: 15 },
        encPerField: {
          run: () =>
            Promise.all(fieldNames.map((f) => unsigned.encryptBytes(plaintextFields[f]!, fieldCtx(f)))),
          batch: 20,
        },
        decPerField: {
          run: () => Promise.all(fieldNames.map((f) => unsigned.decryptBytes(perField[f]!, fieldCtx(f)))),
          batch: 20,
        },
        encStockClient: {
          run: () =>
            stockClient.encrypt(sharedCmm, recordJson, {
              encryptionContext: messageContext,
              suiteId: envelopeSuites.unsigned,
            }),
          batch: 30,
        },
        decStockClient: { run: () => stockClient.decrypt(sharedCmm, stockRecord), batch: 30 },

        fleField: { run: () => decryptFleField(fleValue, fleDecrypt), batch: 20 },
        fleFieldStockClient: { run: () => fleClient.decrypt(fleKeyring, fleBytes), batch: 20 },
        fleEncryptField: { run: () => encryptFleField(record.fullName, fleEncrypt), batch: 20 },
        fleForm: { run: () => decryptFleForm(form, fleDecrypt), batch: 4 },
        create: {
          run: async () => {
            const fields = await decryptFleForm(form, fleDecrypt);
            const { category: _, ...sensitive } = fields;
            return unsigned.encryptFields(sensitive, nextCtx());
          },
          batch: 4,
        },
      },
      rounds,
    );
    const b = (k: keyof typeof t) => t[k].bestUs;

    log("counting KMS calls…");
    const kmsFigures = await kmsCallFigures();
    log("streaming 16 MiB…");
    const streamMiBs = await streamThroughput(unsigned, quick ? 4 : 16);

    return {
      prim_rsa2048_oaep_sha256_decrypt_us: us(b("rsaDecrypt"), "node:crypto privateDecrypt, KeyObject"),
      prim_rsa2048_oaep_sha256_encrypt_us: us(b("rsaEncrypt"), "node:crypto publicEncrypt, KeyObject"),
      prim_aes256gcm_200b_us: us(b("aesGcm200"), "createCipheriv + update + final + tag"),
      prim_aes256gcm_bulk_mib_s: {
        value: round(1e6 / b("aesGcm1MiB"), 0),
        unit: "MiB/s",
        note: "1 MiB buffers",
      },
      prim_ecdsa_p384_sign_us: us(b("ecdsaSign"), "sign sha384"),
      prim_ecdsa_p384_verify_us: us(b("ecdsaVerify"), "verify sha384"),
      prim_sha256_1mib_us: us(b("sha256MiB"), "createHash sha256 of 1 MiB"),
      prim_ratio_rsa_decrypt_over_aes_gcm_200b: ratio(
        b("rsaDecrypt") / b("aesGcm200"),
        "RSA unwrap vs one AES op",
      ),
      prim_ratio_ecdsa_sign_over_rsa_decrypt: ratio(b("ecdsaSign") / b("rsaDecrypt"), ""),

      envelope_encrypt_record_unsigned_us: us(b("encUnsigned"), "7 fields, one message, warm cache"),
      envelope_decrypt_record_unsigned_us: us(b("decUnsigned"), "one message, warm decrypt cache"),
      envelope_encrypt_record_signed_us: us(b("encSigned"), "same, ECDSA P-384 suite"),
      envelope_decrypt_record_signed_us: us(b("decSigned"), "same, ECDSA P-384 suite"),
      envelope_encrypt_record_per_field_us: us(b("encPerField"), "7 messages, one per field"),
      envelope_decrypt_record_per_field_us: us(b("decPerField"), "7 messages, one per field"),
      envelope_encrypt_record_stock_client_us: us(b("encStockClient"), "SDK buildClient().encrypt, same CMM"),
      envelope_decrypt_record_stock_client_us: us(b("decStockClient"), "SDK buildClient().decrypt, same CMM"),
      envelope_record_bytes_one_message: {
        value: unsignedRecord.byteLength,
        unit: "bytes",
        note: "ciphertext",
      },
      envelope_record_bytes_per_field: { value: perFieldBytes, unit: "bytes", note: "sum of 7 ciphertexts" },
      envelope_ratio_signed_over_unsigned_encrypt: ratio(b("encSigned") / b("encUnsigned"), ""),
      envelope_ratio_per_field_over_one_message_encrypt: ratio(b("encPerField") / b("encUnsigned"), ""),
      envelope_ratio_per_field_over_one_message_decrypt: ratio(b("decPerField") / b("decUnsigned"), ""),
      envelope_ratio_unsigned_encrypt_over_aes_gcm_200b: ratio(b("encUnsigned") / b("aesGcm200"), ""),
      envelope_stream_mib_s: { value: round(streamMiBs, 0), unit: "MiB/s", note: "encrypt+decrypt pipeline" },

      fle_decrypt_field_us: us(b("fleField"), "one CloudFront FLE value (production path)"),
      fle_decrypt_field_stock_client_us: us(b("fleFieldStockClient"), "SDK client + RawRsaKeyringNode"),
      fle_encrypt_field_us: us(b("fleEncryptField"), "as CloudFront (local CloudFront path)"),
      fle_decrypt_form_7_fields_us: us(b("fleForm"), "parse body + 7 FLE decrypts"),
      fle_ratio_field_over_rsa_decrypt: ratio(b("fleField") / b("rsaDecrypt"), ""),
      fle_ratio_stock_client_field_over_rsa_decrypt: ratio(b("fleFieldStockClient") / b("rsaDecrypt"), ""),

      handler_crypto_per_create_us: us(b("create"), "FLE form (7 fields) + envelope encrypt, warm"),
      handler_crypto_per_read_us: us(b("decUnsigned"), "one unwrap-free decrypt, warm"),
      crypto_overhead_ratio: ratio(b("create") / (7 * b("rsaDecrypt")), "per create ÷ 7 × RSA decrypt", {
        max: 1.15,
      }),
      ...kmsFigures,
    };
  },
};

export default bench;
