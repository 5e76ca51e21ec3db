import { beforeAll, describe, expect, it } from "vitest";
import { bucketPrefix, maxBucketPrefixLength } from "../context.ts";
import { type Recorded, type Stack, synthesize } from "./harness.ts";

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
