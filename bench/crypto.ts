/**
 * Crypto benchmark: the node:crypto primitives that bound what is possible, the envelope encryption of
 * a record (signed and unsigned suites, one message vs one per field), CloudFront FLE decryption, and
 * the crypto of a create — ours against the peer baseline's (bench/peer/records-crypto.ts). Public
 * APIs of @veil/crypto only; KMS is the in-process stand-in of @veil/crypto/testing, so the figures are
 * CPU. Times are the best of interleaved rounds (see timing.ts); ratios compare figures of one run.
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
import { buildClient, CommitmentPolicy, RawRsaKeyringNode } from "@aws-crypto/client-node";
import {
  createEnvelopeCrypto,
  createInMemoryEnvelopeCrypto,
  decryptFleField,
  decryptFleForm,
  type EnvelopeCrypto,
  encryptFleField,
  encryptFleForm,
  type InMemoryEnvelopeCrypto,
} from "../packages/crypto/src/index.ts";
import {
  createKmsStandIn,
  generateFleKeyPair,
  type KmsStandIn,
} from "../packages/crypto/src/testing/index.ts";
import { createPeerRecordsCrypto } from "./peer/records-crypto.ts";
import { round, timeCases } from "./timing.ts";
import type { BenchModule, Metric } from "./types.ts";

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

function envelopeFor(kms: KmsStandIn, suite: "unsigned" | "signed" = "unsigned"): InMemoryEnvelopeCrypto {
  return createInMemoryEnvelopeCrypto({
    ...app,
    suite,
    kms: { keyId: kms.keyArn, clientProvider: kms.clientProvider },
  });
}

const us = (value: number, note: string): Metric => ({ value: round(value), unit: "µs", note });
const ratio = (value: number, note: string): Metric => ({ value: round(value, 3), unit: "×", note });

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
  description: "node:crypto primitives, envelope encryption, FLE decryption, a create's crypto vs the peer's",
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

    // The peer baseline on its own stand-in (its KMS calls are its own), same keys and form.
    const peerKms = createKmsStandIn();
    const peer = createPeerRecordsCrypto({
      ...app,
      keyArn: peerKms.keyArn,
      kmsClientProvider: peerKms.clientProvider as never,
      fle: { ...fleNames, privateKeyPem: rsa.privateKeyPem },
    });
    const oursForm = await decryptFleForm(form, fleDecrypt);
    const peerForm = await peer.openForm(form);
    if (JSON.stringify(oursForm) !== JSON.stringify(peerForm)) {
      throw new Error("the peer baseline reads the form differently from ours");
    }
    const { category: _, ...sensitive } = oursForm;

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

        fleField: { run: () => decryptFleField(fleValue, fleDecrypt), batch: 20 },
        fleFieldStockClient: { run: () => fleClient.decrypt(fleKeyring, fleBytes), batch: 20 },
        fleEncryptField: { run: () => encryptFleField(record.fullName, fleEncrypt), batch: 20 },
        fleForm: { run: () => decryptFleForm(form, fleDecrypt), batch: 4 },
        peerFleForm: { run: () => peer.openForm(form), batch: 4 },
        peerEncrypt: { run: () => peer.encryptFields(sensitive, nextCtx()), batch: 20 },
        create: {
          run: async () => {
            const { category: _c, ...fields } = await decryptFleForm(form, fleDecrypt);
            return unsigned.encryptFields(fields, nextCtx());
          },
          batch: 4,
        },
        peerCreate: {
          run: async () => {
            const { category: _c, ...fields } = await peer.openForm(form);
            return peer.encryptFields(fields, nextCtx());
          },
          batch: 4,
        },
      },
      rounds,
    );
    const b = (k: keyof typeof t) => t[k].bestUs;

    log("streaming…");
    const streams = createEnvelopeCrypto({
      ...app,
      kms: { keyId: kms.keyArn, clientProvider: kms.clientProvider },
    });
    const streamMiBs = await streamThroughput(streams, quick ? 4 : 16);

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

      envelope_encrypt_record_unsigned_us: us(b("encUnsigned"), "7 fields, one message, warm cache"),
      envelope_decrypt_record_unsigned_us: us(b("decUnsigned"), "one message, warm decrypt cache"),
      envelope_encrypt_record_signed_us: us(b("encSigned"), "7 fields, one message, ECDSA P-384 suite"),
      envelope_decrypt_record_signed_us: us(b("decSigned"), "one message, ECDSA P-384 suite"),
      envelope_encrypt_record_per_field_us: us(b("encPerField"), "7 messages, one per field"),
      envelope_decrypt_record_per_field_us: us(b("decPerField"), "7 messages, one per field"),
      envelope_record_bytes_one_message: {
        value: unsignedRecord.byteLength,
        unit: "bytes",
        note: "ciphertext",
      },
      envelope_record_bytes_per_field: { value: perFieldBytes, unit: "bytes", note: "sum of 7 ciphertexts" },
      envelope_ratio_signed_over_unsigned_encrypt: ratio(
        b("encSigned") / b("encUnsigned"),
        "record encrypt, signed ÷ unsigned suite",
      ),
      envelope_ratio_per_field_over_one_message_encrypt: ratio(
        b("encPerField") / b("encUnsigned"),
        "record encrypt, 7 messages ÷ one",
      ),
      envelope_stream_mib_s: {
        value: round(streamMiBs, 0),
        unit: "MiB/s",
        note: "encrypt + decrypt stream pipeline (createEnvelopeCrypto)",
      },
      peer_envelope_encrypt_record_us: us(
        b("peerEncrypt"),
        "peer: stock client + caching CMM, per-record context (a KMS stand-in call each)",
      ),

      fle_decrypt_field_us: us(b("fleField"), "one CloudFront FLE value (decryptFleField)"),
      fle_decrypt_field_stock_client_us: us(b("fleFieldStockClient"), "SDK client + RawRsaKeyringNode"),
      fle_encrypt_field_us: us(b("fleEncryptField"), "as CloudFront (local CloudFront path)"),
      fle_decrypt_form_7_fields_us: us(b("fleForm"), "parse body + 7 FLE decrypts (decryptFleForm)"),
      peer_fle_decrypt_form_7_fields_us: us(
        b("peerFleForm"),
        "peer: URLSearchParams + 7 stock-client decrypts",
      ),

      handler_crypto_per_create_us: us(b("create"), "ours: FLE form (7 fields) + envelope encrypt, warm"),
      peer_crypto_per_create_us: us(b("peerCreate"), "peer baseline: the same work, its way"),
      crypto_create_vs_peer: ratio(b("create") / b("peerCreate"), "a create's crypto, ours ÷ the peer's"),
      create_vs_rsa_floor: ratio(
        b("create") / (7 * b("rsaDecrypt")),
        "a create's crypto ÷ 7 raw RSA-2048 OAEP decrypts (the floor)",
      ),
      peer_create_vs_rsa_floor: ratio(
        b("peerCreate") / (7 * b("rsaDecrypt")),
        "the peer baseline's create ÷ 7 raw RSA decrypts",
      ),
      handler_crypto_per_read_us: us(b("decUnsigned"), "one record decrypt, warm cache"),
    };
  },
};

export default bench;
