/**
 * The stock-tools recovery path against messages written by Veil's envelope (both suites, records and
 * streams, many records under one data key) on the local KMS; its layout constants against the code
 * that writes the data. The whole-stack test is cli/recover.int.test.ts.
 */
import { randomBytes } from "node:crypto";
import { PassThrough, Readable } from "node:stream";
import { buildClient, CommitmentPolicy, getClient, KMS, KmsKeyringNode } from "@aws-crypto/client-node";
import { encryptionPurposes } from "@veil/core";
import { createEnvelopeCrypto, kmsContextKeys, messageContextKeys } from "@veil/crypto";
import { imageEnvelopeContext, imageKey } from "@veil/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRecoverArgs } from "../cli/recover.ts";
import { APP, client, DEVELOPER, fixture, POLICY } from "../kms/testing.ts";
import { storedImageKey } from "./sources.ts";
import {
  imageContext,
  partitionContextKeys,
  RecoveryError,
  recordContext,
  recoverImage,
  recoverRecord,
  recoveryKeyring,
  storedPurposes,
} from "./stock-decrypt.ts";

type Fixture = Awaited<ReturnType<typeof fixture>>;
let f: Fixture;
let keyArn: string;
const ownerId = "owner-1";
const ids = () => [crypto.randomUUID(), crypto.randomUUID()] as const;

function envelope(suite: "unsigned" | "signed", stage = "dev") {
  return createEnvelopeCrypto({
    app: "veil",
    stage,
    suite,
    streamFrameLength: 4096,
    kms: {
      keyId: keyArn,
      endpoint: f.kms.endpoint,
      region: f.kms.region,
      credentials: { accessKeyId: APP.id, secretAccessKey: APP.secret },
    },
  });
}
const keyring = (who: { id: string; secret: string } = APP) =>
  recoveryKeyring({ kms: client(f.kms, who), region: f.kms.region, keyArn });
const collect = () => {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on("data", (c: Buffer) => chunks.push(c));
  return { sink, bytes: () => Buffer.concat(chunks) };
};

beforeAll(async () => {
  f = await fixture();
  keyArn = f.kms.createKey({ policy: POLICY });
});
afterAll(async () => {
  await f.close();
});

describe.each(["unsigned", "signed"] as const)("records of the %s suite", (suite) => {
  it("decrypt with the stock client, KmsKeyringNode and the partition-context client", async () => {
    const writer = envelope(suite);
    const [a, b] = ids();
    const fields = { fullName: "Ada", diagnosis: `d-${randomBytes(4).toString("hex")}` };
    const first = await writer.encryptFields(fields, { ownerId, recordId: a, purpose: "record.sensitive" });
    const second = await writer.encryptFields(
      { fullName: "Bob" },
      {
        ownerId,
        recordId: b,
        purpose: "record.sensitive",
      },
    );
    expect(writer.stats().kmsCalls.generateDataKey).toBe(1);
    const deployment = { app: "veil", stage: "dev", ownerId };
    expect(await recoverRecord(keyring(), first, recordContext({ ...deployment, recordId: a }))).toEqual(
      fields,
    );
    expect(await recoverRecord(keyring(), second, recordContext({ ...deployment, recordId: b }))).toEqual({
      fullName: "Bob",
    });
  });

  it("do not decrypt with the stock KMS client: KMS sees a context the data key was not wrapped under", async () => {
    const [a] = ids();
    const ciphertext = await envelope(suite).encryptFields(
      { fullName: "Ada" },
      {
        ownerId,
        recordId: a,
        purpose: "record.sensitive",
      },
    );
    const stock = new KmsKeyringNode({
      clientProvider: getClient(KMS, {
        endpoint: f.kms.endpoint,
        credentials: { accessKeyId: APP.id, secretAccessKey: APP.secret },
        maxAttempts: 1,
      }),
      keyIds: [keyArn],
    });
    await expect(
      buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT).decrypt(stock, ciphertext),
    ).rejects.toThrow(/InvalidCiphertextException/);
  });

  it("are refused when moved to another record, owner or stage", async () => {
    const [a, b] = ids();
    const ciphertext = await envelope(suite).encryptFields(
      { fullName: "Ada" },
      {
        ownerId,
        recordId: a,
        purpose: "record.sensitive",
      },
    );
    const expected = recordContext({ app: "veil", stage: "dev", ownerId, recordId: a });
    for (const [key, value] of [
      ["recordId", b],
      ["ownerId", "owner-2"],
      ["stage", "prod"],
      ["purpose", "record.image"],
    ] as const) {
      await expect(recoverRecord(keyring(), ciphertext, { ...expected, [key]: value })).rejects.toThrow(
        new RecoveryError(`the ciphertext belongs elsewhere: its context differs in ${key}`),
      );
    }
  });
});

describe("images", () => {
  it("stream back through the stock decryptStream, refused unread under another image's context", async () => {
    const [recordId, imageId] = ids();
    const image = randomBytes(50_000);
    const ctx = imageEnvelopeContext({ ownerId, recordId, imageId });
    const stored = await Readable.from(
      envelope("unsigned").encryptStream(Readable.from([image]), ctx),
    ).toArray();
    const expected = imageContext({ app: "veil", stage: "dev", ownerId, recordId, imageId });

    const ok = collect();
    await recoverImage(keyring(), Readable.from(stored), ok.sink, expected);
    expect(ok.bytes().equals(image)).toBe(true);

    const moved = collect();
    const other = imageContext({ app: "veil", stage: "dev", ownerId, recordId, imageId: recordId });
    await expect(recoverImage(keyring(), Readable.from(stored), moved.sink, other)).rejects.toThrow(
      /differs in recordId$/,
    );
    expect(moved.bytes().length).toBe(0);

    const cut = Buffer.concat(stored).subarray(0, -100);
    await expect(recoverImage(keyring(), Readable.from([cut]), collect().sink, expected)).rejects.toThrow();
  });
});

it("a principal the key policy does not name is refused by KMS", async () => {
  const [a] = ids();
  const ciphertext = await envelope("unsigned").encryptFields(
    { fullName: "Ada" },
    {
      ownerId,
      recordId: a,
      purpose: "record.sensitive",
    },
  );
  await expect(
    recoverRecord(
      keyring(DEVELOPER),
      ciphertext,
      recordContext({ app: "veil", stage: "dev", ownerId, recordId: a }),
    ),
  ).rejects.toThrow(/AccessDeniedException/);
});

describe("the stored layout spelled out for recovery", () => {
  it("matches what the writers use", () => {
    const [recordId, imageId] = ids();
    expect(storedPurposes).toEqual({
      record: encryptionPurposes.recordFields,
      image: encryptionPurposes.recordImage,
    });
    expect([...partitionContextKeys]).toEqual([...kmsContextKeys]);
    expect(Object.keys(recordContext({ app: "a", stage: "s", ownerId, recordId })).sort()).toEqual(
      [...messageContextKeys].sort(),
    );
    expect(imageContext({ app: "a", stage: "s", ownerId, recordId, imageId })).toEqual({
      app: "a",
      stage: "s",
      ...imageEnvelopeContext({ ownerId, recordId, imageId }),
    });
    expect(storedImageKey({ ownerId, recordId, id: imageId })).toBe(imageKey({ ownerId, recordId, imageId }));
  });
});

describe("parseRecoverArgs", () => {
  it("reads the local and the AWS forms", () => {
    expect(parseRecoverArgs(["r1"])).toEqual({ recordId: "r1", images: false });
    expect(parseRecoverArgs(["r1", "--images", "--out", "x"])).toEqual({
      recordId: "r1",
      images: true,
      out: "x",
    });
    expect(
      parseRecoverArgs([
        "r1",
        "--database-url",
        "postgres://h/db",
        "--region",
        "eu-central-2",
        "--stage",
        "prod",
        "--key-arn",
        "arn:aws:kms:eu-central-2:111122223333:key/k",
        "--images",
        "--bucket",
        "b",
        "--out",
        "o",
      ]),
    ).toMatchObject({ databaseUrl: "postgres://h/db", region: "eu-central-2", stage: "prod", bucket: "b" });
  });

  it("refuses what it cannot do", () => {
    expect(() => parseRecoverArgs([])).toThrow("a record id is required");
    expect(() => parseRecoverArgs(["r1", "--images"])).toThrow("--out");
    expect(() => parseRecoverArgs(["r1", "--out"])).toThrow("--out needs a value");
    expect(() => parseRecoverArgs(["r1", "--bogus"])).toThrow("unknown option --bogus");
    expect(() => parseRecoverArgs(["r1", "r2"])).toThrow("unexpected argument r2");
    expect(() => parseRecoverArgs(["r1", "--database-url", "u", "--region", "r"])).toThrow("--stage");
    // Without the key ARN the stock keyring would ask whatever KMS key a planted row names.
    expect(() => parseRecoverArgs(["r1", "--database-url", "u", "--region", "r", "--stage", "s"])).toThrow(
      "--key-arn",
    );
    expect(() =>
      parseRecoverArgs([
        "r1",
        "--database-url",
        "u",
        "--region",
        "r",
        "--stage",
        "s",
        "--key-arn",
        "k",
        "--images",
        "--out",
        "o",
      ]),
    ).toThrow("--bucket");
  });
});
