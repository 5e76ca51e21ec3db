/**
 * Recovery with stock tools, end to end on the local stack: records and an image written by the real
 * handlers are decrypted by the AWS Encryption SDK client with `KmsKeyringNode` and a stock `KMSClient`
 * (nothing of @veil/crypto), through the library and through `pnpm veil recover`; the stock keyring
 * without the partition-context client is refused by KMS; a ciphertext moved onto another record or
 * image is refused; and a recovery principal given `kms:Decrypt` under `app`/`stage` conditions (the
 * documented disaster procedure) recovers a record, while the same statement for another stage does not.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { promisify } from "node:util";
import { buildClient, CommitmentPolicy, getClient, KMS, KmsKeyringNode } from "@aws-crypto/client-node";
import { GetKeyPolicyCommand, KMSClient, PutKeyPolicyCommand } from "@aws-sdk/client-kms";
import { startTestPostgres, type TestPostgres } from "@veil/db/testing";
import { jpegFixture } from "@veil/storage/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpAndSignIn } from "../cognito/index.ts";
import { openImage, readRecord, s3Client } from "../recovery/sources.ts";
import {
  imageContext,
  RecoveryError,
  recordContext,
  recoverImage,
  recoverRecord,
  recoveryKeyring,
} from "../recovery/stock-decrypt.ts";
import { imageClient } from "../s3/testing.ts";
import { ephemeralPorts } from "../stack/config.ts";
import { type LocalStack, startLocalStack } from "../stack/start.ts";

const run = promisify(execFile);
const packageRoot = resolve(import.meta.dirname, "../..");
const tag = randomBytes(5).toString("hex");
const fields = {
  fullName: `Ada Recovery ${tag}`,
  dateOfBirth: "1970-01-02",
  insuranceNumber: "X123456789",
  diagnosis: `diagnosis-${tag}`,
};
const fixture = jpegFixture({ width: 24, height: 16, keptBytes: Buffer.from(`PIXELS-${tag}-`) });

let pgServer: TestPostgres;
let stack: LocalStack;
let stateDir: string;
let alice: ReturnType<typeof imageClient>;
let recordId: string;
let otherRecordId: string;
let imageId: string;
let ownerId: string;

/** KMS as the records function's role: the one local principal the key policy lets decrypt. */
const functionKms = () =>
  new KMSClient({
    region: stack.info.region,
    endpoint: stack.info.kmsEndpoint,
    credentials: stack.identities.functionRole,
  });
const keyring = () =>
  recoveryKeyring({
    kms: functionKms(),
    region: stack.info.region,
    keyArn: stack.identities.recordsKeyArn as string,
  });
const deployment = () => ({ app: "veil", stage: stack.info.stage, ownerId });
const row = async (id: string) => (await readRecord(stack.info.databaseUrl, id, true)) ?? expect.fail(id);

/** `pnpm veil recover …` in its own process, with only the given AWS credentials (or none). */
async function cli(args: string[], credentials?: { accessKeyId: string; secretAccessKey: string }) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AWS_")));
  return run(join(packageRoot, "node_modules/.bin/tsx"), ["src/cli/veil.ts", "recover", ...args], {
    cwd: packageRoot,
    env: {
      ...env,
      VEIL_STATE_DIR: stateDir,
      ...(credentials
        ? { AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey }
        : {}),
    },
  });
}

beforeAll(async () => {
  pgServer = await startTestPostgres();
  stateDir = mkdtempSync(join(tmpdir(), "veil-recover-"));
  stack = await startLocalStack({
    stateDir,
    ports: ephemeralPorts,
    databaseUrl: pgServer.connectionString,
    webRoot: stateDir,
  });
  const { accessToken } = await signUpAndSignIn(stack.info.cognito.endpoint, stack.info.cognito.clientId, {
    email: `recover-${tag}@users.example.net`,
    password: `Pw-${randomBytes(9).toString("base64url")}-1a`,
  });
  alice = imageClient(stack, accessToken);
  const created = await alice.api("/api/records", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ category: "cardiology", ...fields }).toString(),
  });
  expect(created.status).toBe(201);
  recordId = ((await created.json()) as { id: string }).id;
  otherRecordId = await alice.createRecord();
  const { ticket, image } = await alice.upload(recordId, "image/jpeg", fixture.original);
  expect(image.status).toBe("ready");
  imageId = ticket.imageId;
  ownerId = (await row(recordId)).record.ownerId;
});

afterAll(async () => {
  await stack?.stop();
  await pgServer?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe("the stock Encryption SDK client with KmsKeyringNode", () => {
  it("decrypts a record written by the records handler, with the partition-context KMS client", async () => {
    const { record } = await row(recordId);
    const recovered = await recoverRecord(
      keyring(),
      record.ciphertext,
      recordContext({ ...deployment(), recordId }),
    );
    expect(recovered).toEqual(fields);
  });

  it("decrypts the stored image from S3 to the bytes the owner downloads", async () => {
    const { images } = await row(recordId);
    expect(images.map((i) => i.id)).toEqual([imageId]);
    const s3 = JSON.parse(readFileSync(join(stateDir, "s3.json"), "utf8"));
    const chunks: Buffer[] = [];
    await recoverImage(
      keyring(),
      await openImage({ s3: s3Client(s3), bucket: s3.buckets.images }, images[0]!),
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          chunks.push(chunk);
          done();
        },
      }),
      imageContext({ ...deployment(), recordId, imageId }),
    );
    expect(Buffer.concat(chunks).equals(fixture.stripped)).toBe(true);
  });

  it("fails without the partition-context client: KMS refuses the message's full context", async () => {
    const { record } = await row(recordId);
    const stock = new KmsKeyringNode({
      clientProvider: getClient(KMS, {
        region: stack.info.region,
        endpoint: stack.info.kmsEndpoint,
        credentials: stack.identities.functionRole,
      }),
      keyIds: [stack.identities.recordsKeyArn as string],
    });
    const client = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
    await expect(client.decrypt(stock, record.ciphertext)).rejects.toThrow(/InvalidCiphertextException/);
    // The same keyring class and client over the partition-context KMS client succeed.
    const { messageHeader } = await client.decrypt(keyring(), record.ciphertext);
    expect(messageHeader.encryptionContext).toEqual(recordContext({ ...deployment(), recordId }));
  });

  it("refuses a record's ciphertext moved onto another record (and writes no plaintext)", async () => {
    const { record } = await row(recordId);
    const moved = recoverRecord(
      keyring(),
      record.ciphertext,
      recordContext({ ...deployment(), recordId: otherRecordId }),
    );
    await expect(moved).rejects.toThrow(RecoveryError);
    await expect(moved).rejects.toThrow(/differs in recordId$/);

    const db = new pg.Client({ connectionString: pgServer.connectionString });
    await db.connect();
    try {
      await db.query("UPDATE records SET ciphertext = $1 WHERE id = $2", [record.ciphertext, otherRecordId]);
    } finally {
      await db.end();
    }
    const out = mkdtempSync(join(tmpdir(), "veil-recover-out-"));
    try {
      await expect(cli([otherRecordId, "--out", out])).rejects.toMatchObject({
        stderr: expect.stringContaining("its context differs in recordId"),
      });
      expect(readdirSync(out)).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("refuses an image's object read as another image, before any byte is written", async () => {
    const { images } = await row(recordId);
    const s3 = JSON.parse(readFileSync(join(stateDir, "s3.json"), "utf8"));
    const sink = new PassThrough();
    let written = 0;
    sink.on("data", (c: Buffer) => {
      written += c.length;
    });
    await expect(
      recoverImage(
        keyring(),
        await openImage({ s3: s3Client(s3), bucket: s3.buckets.images }, images[0]!),
        sink,
        imageContext({ ...deployment(), recordId, imageId: otherRecordId }),
      ),
    ).rejects.toThrow(/differs in recordId$/);
    expect(written).toBe(0);
  });
});

describe("pnpm veil recover", () => {
  it("writes the record's fields and its images under --out (local stack)", async () => {
    const out = mkdtempSync(join(tmpdir(), "veil-recover-out-"));
    try {
      const { stderr } = await cli([recordId, "--images", "--out", out]);
      expect(stderr).toContain(`record ${recordId}: 4 fields`);
      const record = JSON.parse(readFileSync(join(out, `${recordId}.json`), "utf8"));
      expect(record).toMatchObject({ id: recordId, ownerId, category: "cardiology", fields });
      const image = readFileSync(join(out, recordId, `${imageId}.jpg`));
      expect(image.equals(fixture.stripped)).toBe(true);
      expect(readdirSync(join(out, recordId))).toEqual([`${imageId}.jpg`]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  describe("as a recovery principal given kms:Decrypt for app and stage by the key admin", () => {
    const admin = () =>
      new KMSClient({
        region: stack.info.region,
        endpoint: stack.info.kmsEndpoint,
        credentials: stack.identities.adminRole,
      });
    /** The context conditions of the statement of docs/recovery.md (the local KMS has no MFA sessions or expiry), for the local developer principal. */
    const recoveryStatement = (stage: string) => ({
      Sid: "RecoveryDecryptsOneStage",
      Effect: "Allow",
      Principal: { AWS: stack.identities.developer.arn },
      Action: "kms:Decrypt",
      Resource: "*",
      Condition: {
        StringEquals: { "kms:EncryptionContext:app": "veil", "kms:EncryptionContext:stage": stage },
      },
    });
    let original = "";
    async function withStatement(stage: string | undefined) {
      const keyId = stack.identities.recordsKeyArn as string;
      if (!original) original = (await admin().send(new GetKeyPolicyCommand({ KeyId: keyId }))).Policy ?? "";
      const policy = JSON.parse(original);
      if (stage) policy.Statement.push(recoveryStatement(stage));
      await admin().send(
        new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: "default", Policy: JSON.stringify(policy) }),
      );
    }
    const awsFlags = () => [
      "--database-url",
      stack.info.databaseUrl,
      "--region",
      stack.info.region,
      "--stage",
      stack.info.stage,
      "--kms-endpoint",
      stack.info.kmsEndpoint,
      "--key-arn",
      stack.identities.recordsKeyArn as string,
    ];

    afterAll(async () => {
      if (original) await withStatement(undefined);
    });

    it("is refused before the statement, and with a statement for another stage", async () => {
      await expect(cli([recordId, ...awsFlags()], stack.identities.developer)).rejects.toMatchObject({
        stderr: expect.stringContaining("AccessDeniedException"),
      });
      await withStatement("prod");
      await expect(cli([recordId, ...awsFlags()], stack.identities.developer)).rejects.toMatchObject({
        stderr: expect.stringContaining("AccessDeniedException"),
      });
    });

    it("recovers the record with the AWS flags and its own credentials once the statement is in", async () => {
      await withStatement(stack.info.stage);
      const { stdout } = await cli([recordId, ...awsFlags()], stack.identities.developer);
      expect(JSON.parse(stdout)).toMatchObject({ id: recordId, ownerId, fields });
    });
  });
});
