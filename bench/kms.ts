/**
 * KMS calls under caching, ours against the peer baseline's, counted by the local KMS emulator of
 * packages/local that both reach over HTTP with their real clients: 1000 sequential writes of
 * different records, a cold burst of 50 concurrent first writes (KMS answering GenerateDataKey after
 * 5 ms), and 1000 reads of those records by a fresh reader. Counts, not times.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cacheClients, getClient, KMS } from "@aws-crypto/client-node";
import { createInMemoryEnvelopeCrypto } from "../packages/crypto/src/index.ts";
import { generateFleKeyPair } from "../packages/crypto/src/testing/index.ts";
import { defaultKeyPolicy, startLocalKms } from "../packages/local/src/kms/index.ts";
import { createPeerRecordsCrypto } from "./peer/records-crypto.ts";
import type { BenchModule, Metric } from "./types.ts";

const app = { app: "veil", stage: "bench" };
const record = {
  fullName: "Maria Fernanda Oliveira",
  dateOfBirth: "1984-03-17",
  insuranceNumber: "A123456789",
  email: "maria.oliveira@example.org",
  phone: "+49 30 1234567",
  diagnosis: "Type 2 diabetes mellitus without complications; hypertension, essential.",
  notes: "Follow-up in three months.",
};
const writes = 1000;
const burst = 50;

/** What both sides do with a record: the same calls, so one loop drives either. */
interface Writer {
  encryptFields(fields: typeof record, ctx: RecordCtx): Promise<Uint8Array>;
  decryptFields(ciphertext: Uint8Array, ctx: RecordCtx): Promise<unknown>;
}
interface RecordCtx {
  ownerId: string;
  recordId: string;
  purpose: string;
}
const ctxOf = (i: number): RecordCtx => ({
  ownerId: `owner-${i % 37}`,
  recordId: `rec-${i}`,
  purpose: "record",
});

const bench: BenchModule = {
  name: "kms",
  description: "KMS calls under caching, ours vs the peer baseline's, counted by the local KMS",
  async run({ log }) {
    const stateDir = mkdtempSync(join(tmpdir(), "veil-bench-kms-"));
    const account = "000000000000";
    const principal = { accessKeyId: "AKIABENCHKMS", secretAccessKey: "bench-kms-secret" };
    const kms = await startLocalKms({
      stateDir,
      region: "eu-central-2",
      accountId: account,
      principals: {
        [principal.accessKeyId]: {
          secret: principal.secretAccessKey,
          arn: `arn:aws:iam::${account}:role/bench`,
          identityActions: ["kms:*"],
        },
      },
    });
    try {
      const keyArn = kms.createKey({ policy: defaultKeyPolicy(account) });
      const fle = {
        providerId: "veil-fle",
        keyName: "bench",
        privateKeyPem: generateFleKeyPair().privateKeyPem,
      };
      const sides: Record<"ours" | "peer", () => Writer> = {
        ours: () =>
          createInMemoryEnvelopeCrypto({
            ...app,
            kms: { keyId: keyArn, endpoint: kms.endpoint, credentials: principal },
          }),
        peer: () =>
          createPeerRecordsCrypto({
            ...app,
            keyArn,
            kmsClientProvider: cacheClients(
              getClient(KMS, { endpoint: kms.endpoint, credentials: principal, region: kms.region }),
            ),
            fle,
          }),
      };
      const count = (operation: string) => kms.stats().operations[operation] ?? 0;
      const figures: Record<string, Metric> = {};
      for (const side of ["ours", "peer"] as const) {
        const prefix = side === "ours" ? "" : "peer_";
        const who = side === "ours" ? "ours" : "peer baseline";

        log(`${side}: ${writes} sequential writes…`);
        const writer = sides[side]();
        let before = count("GenerateDataKey");
        const stored: Uint8Array[] = [];
        for (let i = 0; i < writes; i++) stored.push(await writer.encryptFields(record, ctxOf(i)));
        figures[`${prefix}kms_calls_per_1000_writes`] = {
          value: ((count("GenerateDataKey") - before) * 1000) / writes,
          unit: "calls",
          note: `GenerateDataKey for ${writes} sequential writes of different records (${who})`,
        };

        log(`${side}: a cold burst of ${burst} concurrent first writes…`);
        const cold = sides[side]();
        kms.setFault({ mode: "slow", delayMs: 5, operations: ["GenerateDataKey"] });
        before = count("GenerateDataKey");
        await Promise.all(
          Array.from({ length: burst }, (_, i) => cold.encryptFields(record, ctxOf(writes + i))),
        );
        kms.setFault(null);
        figures[`${prefix}kms_calls_cold_burst_50`] = {
          value: count("GenerateDataKey") - before,
          unit: "calls",
          note: `GenerateDataKey for ${burst} concurrent first writes, KMS answering in 5 ms (${who})`,
        };

        log(`${side}: ${writes} reads by a fresh reader…`);
        const reader = sides[side]();
        before = count("Decrypt");
        for (const [i, ciphertext] of stored.entries()) await reader.decryptFields(ciphertext, ctxOf(i));
        figures[`${prefix}kms_decrypt_calls_per_1000_reads`] = {
          value: ((count("Decrypt") - before) * 1000) / writes,
          unit: "calls",
          note: `KMS Decrypt for ${writes} reads of different records by a fresh reader (${who})`,
        };
      }
      return figures;
    } finally {
      await kms.stop();
      rmSync(stateDir, { recursive: true, force: true });
    }
  },
};

export default bench;
