import { beforeAll, describe, expect, it } from "vitest";
import { bucketPrefix, maxBucketPrefixLength } from "../context.ts";
import { type Recorded, type Stack, synthesize } from "./harness.ts";
import { allowAll, decide } from "./simulate.ts";
import { bucketArn, parse, roleArn, stackHelpers, T } from "./stack-helpers.ts";
import { type SharedStack, sharedStack, sharedStages } from "./stages.ts";

/** The longest personal stage name stage.ts accepts. */
const longStage = "feature-0123456789-abcdefghijklm";

const glob = (pattern: string) =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
const asArray = <V>(v: V | V[] | undefined): V[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Buckets (storage.ts, observability.ts, cdn.ts) on a personal stage with the longest allowed name. */
describe("storage: buckets of a stage with a long name", () => {
  let s: Stack;
  beforeAll(async () => {
    expect(longStage).toHaveLength(32);
    s = await synthesize(longStage, { VEIL_PERSONAL_STAGE: longStage });
  }, 120_000);

  const buckets = () => s.ofType("aws:s3/bucket:Bucket");

  it("keeps every bucket name prefix within what S3's 63 characters leave (37)", () => {
    expect(buckets().length).toBeGreaterThanOrEqual(5);
    for (const b of buckets()) {
      const prefix = String(b.inputs.bucketPrefix);
      expect(prefix.length, prefix).toBeLessThanOrEqual(maxBucketPrefixLength);
      expect(prefix, prefix).toMatch(/^veil-[a-z0-9-]+-$/);
      expect(prefix.length + 26, prefix).toBeLessThanOrEqual(63);
    }
    // One prefix per stage: a shorter stage sharing the head of the name gets another one.
    expect(bucketPrefix(longStage, "access-logs")).not.toBe(bucketPrefix(`${longStage}x`, "access-logs"));
    expect(bucketPrefix("dev", "access-logs")).toBe("veil-dev-access-logs-");
  });

  it("keeps the data key's grant to the images bucket matching the (shortened) images bucket name", () => {
    const images = buckets().find((b) => String(b.inputs.bucketPrefix).endsWith("-images-"))!;
    const policy = JSON.stringify(JSON.parse(s.get("aws:kms/key:Key", "DataKey").inputs.policy));
    const pattern = /"(arn:aws:s3:::[^"]*images-\*)"/.exec(policy)?.[1];
    expect(pattern).toBeDefined();
    expect(String(images.state.arn)).toMatch(glob(pattern!));
  });

  it("keeps the other physical names within their AWS limits", () => {
    for (const f of s.ofType("aws:lambda/function:Function"))
      expect(String(f.inputs.name).length, f.inputs.name).toBeLessThanOrEqual(64);
    for (const r of s.ofType("aws:iam/role:Role").filter((r) => r.inputs.name))
      expect(String(r.inputs.name).length, r.inputs.name).toBeLessThanOrEqual(64);
    expect(
      String(s.get("aws:rds/instance:Instance", "Database").inputs.identifier).length,
    ).toBeLessThanOrEqual(63);
  });

  it("lets S3 deliver the access logs of every bucket that logs into the access-log bucket", () => {
    const logging = s.ofType("aws:s3/bucketLogging:BucketLogging");
    const byId = (id: string): Recorded => buckets().find((b) => b.id === id)!;
    // The data buckets and the trail's log archive.
    expect(logging.map((l) => byId(l.inputs.bucket).inputs.bucketPrefix).sort()).toEqual(
      ["images", "inbox", "log-archive"].map((p) => bucketPrefix(longStage, p)).sort(),
    );
    for (const l of logging) {
      const source = String(byId(l.inputs.bucket).state.arn);
      const policy = s
        .ofType("aws:s3/bucketPolicy:BucketPolicy")
        .find((p) => p.inputs.bucket === l.inputs.targetBucket);
      expect(policy, `policy of ${l.inputs.targetBucket}`).toBeDefined();
      const delivery = JSON.parse(policy!.inputs.policy).Statement.find(
        (st: { Principal?: { Service?: string } }) => st.Principal?.Service === "logging.s3.amazonaws.com",
      );
      expect(delivery.Effect).toBe("Allow");
      const sources = asArray<string>(delivery.Condition.ArnLike["aws:SourceArn"]);
      expect(
        sources.some((p) => glob(p).test(source)),
        `${source} may deliver to ${l.inputs.targetBucket}`,
      ).toBe(true);
    }
  });
});

/**
 * The data buckets (storage.ts) on each shared stage: encryption, lifecycle, CORS, and who may do what on
 * objects (identity and bucket policies simulated together).
 */
for (const stageName of sharedStages) {
  let s: SharedStack;
  let dataKeyArn: string;
  const { stage, n, policyOf, bucketByPrefix, forBucket } = stackHelpers(stageName, () => s);
  beforeAll(async () => {
    s = await sharedStack(stageName);
    dataKeyArn = String(s.get(T.key, "DataKey").state.arn);
  }, 120_000);

  describe(`${stageName}: S3 data buckets`, () => {
    const sseOf = (b: Recorded) =>
      forBucket(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        b,
      )[0]!.inputs.rules[0];
    const lifecycleOf = (b: Recorded) =>
      forBucket("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", b)[0]!.inputs.rules;
    const corsOf = (b: Recorded) => forBucket("aws:s3/bucketCorsConfiguration:BucketCorsConfiguration", b);

    for (const part of ["images", "inbox"] as const) {
      it(`${part}: blocks public access, versions, logs to the access-log bucket`, () => {
        const b = bucketByPrefix(part);
        const pab = forBucket("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", b)[0]!.inputs;
        expect(pab).toMatchObject({
          blockPublicAcls: true,
          blockPublicPolicy: true,
          ignorePublicAcls: true,
          restrictPublicBuckets: true,
        });
        expect(
          forBucket("aws:s3/bucketVersioning:BucketVersioning", b)[0]!.inputs.versioningConfiguration.status,
        ).toBe("Enabled");
        const logging = forBucket("aws:s3/bucketLogging:BucketLogging", b)[0]!.inputs;
        const logBucket = bucketByPrefix("access-logs");
        expect(logging.targetBucket).not.toBe(logging.bucket);
        expect(logging.targetBucket).toBe(logBucket.id);
      });
    }

    it("images: SSE-KMS with the data key and bucket keys; deleted versions kept for the retention, then gone", () => {
      const b = bucketByPrefix("images");
      const sse = sseOf(b);
      expect(sse.applyServerSideEncryptionByDefault).toEqual({
        sseAlgorithm: "aws:kms",
        kmsMasterKeyId: dataKeyArn,
      });
      expect(sse.bucketKeyEnabled).toBe(true);
      const rules = lifecycleOf(b);
      expect(rules).toHaveLength(1);
      expect(rules[0]).toMatchObject({
        status: "Enabled",
        filter: {},
        noncurrentVersionExpiration: { noncurrentDays: stage.storage.noncurrentVersionDays },
        expiration: { expiredObjectDeleteMarker: true },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
      });
      // Current images never expire: only what a delete or an overwrite made noncurrent.
      expect(rules[0].expiration.days).toBeUndefined();
      expect(stage.storage.noncurrentVersionDays).toBeGreaterThanOrEqual(7);
      // Browsers never reach the images bucket: downloads stream through the API.
      expect(corsOf(b)).toEqual([]);
    });

    it("inbox: SSE-S3, everything expires after a day, PUT from the site's origin only", () => {
      const b = bucketByPrefix("inbox");
      expect(sseOf(b).applyServerSideEncryptionByDefault).toEqual({ sseAlgorithm: "AES256" });
      const rules = lifecycleOf(b);
      expect(rules).toHaveLength(1);
      expect(rules[0]).toMatchObject({
        status: "Enabled",
        filter: {},
        expiration: { days: 1 },
        noncurrentVersionExpiration: { noncurrentDays: 1 },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
      });
      const cors = corsOf(b);
      expect(cors).toHaveLength(1);
      expect(cors[0]!.inputs.corsRules).toEqual([
        expect.objectContaining({
          allowedOrigins: [`https://${stage.domain}`],
          allowedMethods: ["PUT"],
        }),
      ]);
      expect(JSON.stringify(cors[0]!.inputs.corsRules)).not.toContain("*");
    });

    // What each role may do on objects, with its identity policy and the bucket policy together.
    const onObject = async (role: string, action: string, bucket: "images" | "inbox", key: string) => {
      const b = bucketByPrefix(bucket);
      return decide({
        role: roleArn(role),
        identity: policyOf(role),
        action,
        resource: `${bucketArn(b)}/${key}`,
        resourcePolicy: parse(forBucket(T.bucketPolicy, b)[0]!.inputs.policy),
      });
    };

    it("each function role may do exactly its row of the images table on objects (simulated)", async () => {
      const expectations: [string, string, "images" | "inbox", string, boolean][] = [
        // images API: presigns inbox PUTs, nothing else.
        [n("images-api"), "s3:PutObject", "inbox", "inbox/o/r/i", true],
        [n("images-api"), "s3:PutObject", "inbox", "other/o/r/i", false],
        [n("images-api"), "s3:GetObject", "inbox", "inbox/o/r/i", false],
        [n("images-api"), "s3:GetObject", "images", "images/o/r/i", false],
        [n("images-api"), "s3:PutObject", "images", "images/o/r/i", false],
        // download: reads stored images, nothing else.
        [n("images-download"), "s3:GetObject", "images", "images/o/r/i", true],
        [n("images-download"), "s3:GetObjectVersion", "images", "images/o/r/i", false],
        [n("images-download"), "s3:PutObject", "images", "images/o/r/i", false],
        [n("images-download"), "s3:DeleteObject", "images", "images/o/r/i", false],
        [n("images-download"), "s3:GetObject", "inbox", "inbox/o/r/i", false],
        // ingest: consumes the inbox, writes images, removes only the versions it handled.
        [n("ingest"), "s3:GetObject", "inbox", "inbox/o/r/i", true],
        [n("ingest"), "s3:GetObjectVersion", "inbox", "inbox/o/r/i", true],
        [n("ingest"), "s3:DeleteObjectVersion", "inbox", "inbox/o/r/i", true],
        [n("ingest"), "s3:PutObject", "images", "images/o/r/i", true],
        [n("ingest"), "s3:AbortMultipartUpload", "images", "images/o/r/i", true],
        [n("ingest"), "s3:DeleteObjectVersion", "images", "images/o/r/i", true],
        [n("ingest"), "s3:GetObject", "images", "images/o/r/i", false],
        [n("ingest"), "s3:PutObject", "inbox", "inbox/o/r/i", false],
        // cleanup: deletes the stored images of erased records (a delete marker), reads none.
        [n("images-cleanup"), "s3:DeleteObject", "images", "images/o/r/i", true],
        [n("images-cleanup"), "s3:DeleteObjectVersion", "images", "images/o/r/i", false],
        [n("images-cleanup"), "s3:GetObject", "images", "images/o/r/i", false],
        [n("images-cleanup"), "s3:PutObject", "images", "images/o/r/i", false],
        [n("images-cleanup"), "s3:DeleteObject", "inbox", "inbox/o/r/i", false],
        // account: delete markers in both buckets (erasure), nothing else; no version deleted for good.
        [n("account"), "s3:DeleteObject", "images", "images/o/r/i", true],
        [n("account"), "s3:DeleteObject", "inbox", "inbox/o/r/i", true],
        [n("account"), "s3:DeleteObjectVersion", "images", "images/o/r/i", false],
        [n("account"), "s3:GetObject", "images", "images/o/r/i", false],
        [n("account"), "s3:PutObject", "inbox", "inbox/o/r/i", false],
        [n("account"), "s3:DeleteObject", "images", "other/o/r/i", false],
        // records: no object at all.
        [n("api"), "s3:DeleteObject", "images", "images/o/r/i", false],
        [n("api"), "s3:GetObject", "images", "images/o/r/i", false],
        [n("api"), "s3:PutObject", "inbox", "inbox/o/r/i", false],
        [n("api"), "s3:GetObject", "inbox", "inbox/o/r/i", false],
      ];
      for (const [role, action, bucket, key, allowed] of expectations) {
        const decision = await onObject(role, action, bucket, key);
        expect(decision === "Allowed", `${role} ${action} ${bucket}/${key}: ${decision}`).toBe(allowed);
      }
    });

    it("the bucket policies deny plain HTTP and every principal but the bucket's own function roles", async () => {
      for (const [bucket, allowed, others] of [
        [
          "images",
          [n("ingest"), n("images-download"), n("images-cleanup"), n("account")],
          [n("api"), n("images-api")],
        ],
        [
          "inbox",
          [n("images-api"), n("ingest"), n("account")],
          [n("api"), n("images-download"), n("images-cleanup")],
        ],
      ] as const) {
        const b = bucketByPrefix(bucket);
        const doc = parse(forBucket(T.bucketPolicy, b)[0]!.inputs.policy);
        const object = `${bucketArn(b)}/${bucket}/o/r/i`;
        const ask = (role: string, action: string, context: Record<string, string> = {}) =>
          decide({
            role: roleArn(role),
            identity: [allowAll],
            action,
            resource: object,
            resourcePolicy: doc,
            context,
          });
        for (const role of allowed) {
          expect(await ask(role, "s3:GetObject"), role).toBe("Allowed");
          expect(await ask(role, "s3:GetObject", { "aws:SecureTransport": "false" }), role).toBe(
            "ExplicitlyDenied",
          );
        }
        // Even holding every IAM permission, another role of the account is refused by the bucket.
        for (const role of [...others, "veil-developer", n("rotate-api-key")]) {
          expect(await ask(role, "s3:GetObject"), role).toBe("ExplicitlyDenied");
          expect(await ask(role, "s3:PutObject"), role).toBe("ExplicitlyDenied");
        }
        expect(
          await decide({
            role: "arn:aws:iam::999999999999:role/attacker",
            identity: [allowAll],
            action: "s3:GetObject",
            resource: object,
            resourcePolicy: doc,
            context: { "aws:PrincipalAccount": "999999999999" },
          }),
        ).not.toBe("Allowed");
      }
    });

    it("keeps server access logs in a separate SSE-S3 bucket (S3 log delivery cannot write SSE-KMS)", () => {
      const b = bucketByPrefix("access-logs");
      const sse = forBucket(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        b,
      )[0]!;
      expect(sse.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm).toBe("AES256");
      expect(
        forBucket("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", b)[0]!.inputs
          .restrictPublicBuckets,
      ).toBe(true);
    });
  });
}
