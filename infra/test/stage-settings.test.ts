/**
 * Settings that span every module, on each shared stage: removal and protection by stage (stage.ts),
 * and where each resource lives (the home region; the edge's few in us-east-1).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { edgeRegion, homeRegion } from "../stage.ts";
import { stackHelpers, T } from "./stack-helpers.ts";
import { type SharedStack, sharedStack, sharedStages } from "./stages.ts";

/** The edge signer's log groups and their key: in us-east-1, where CloudWatch keeps Lambda@Edge logs. */
const edgeLogs = ["EdgeLogsKey", "EdgeSignerLogGroup", "EdgeSignerReplicaLogGroup"];

/** Types that hold customer data or its keys, logs or audit trail: they must live in the home region. */
const dataBearing = [
  "aws:kms/key:Key",
  "aws:rds/instance:Instance",
  "aws:s3/bucket:Bucket",
  "aws:s3/bucketObjectv2:BucketObjectv2",
  "aws:secretsmanager/secret:Secret",
  "aws:cognito/userPool:UserPool",
  "aws:cloudwatch/logGroup:LogGroup",
  "aws:sns/topic:Topic",
  "aws:cloudtrail/trail:Trail",
  "aws:ec2/vpc:Vpc",
  "aws:apigateway/restApi:RestApi",
];

for (const stageName of sharedStages) {
  let s: SharedStack;
  const { stage, bucketByPrefix } = stackHelpers(stageName, () => s);
  beforeAll(async () => {
    s = await sharedStack(stageName);
  }, 120_000);

  describe(`${stageName}: stage settings`, () => {
    it("uses the stage's removal and protection", () => {
      expect(s.outputs._protect).toBe(stage.protect);
      expect(stage.removal).toBe(stageName === "prod" ? "retain" : "remove");
    });

    it("protects and retains data-bearing resources exactly in prod", () => {
      const kept = [
        s.get(T.key, "DataKey"),
        s.get(T.key, "LogsKey"),
        s.get(T.db, "Database"),
        s.get("aws:cognito/userPool:UserPool", "UserPool"),
        s.get("aws:secretsmanager/secret:Secret", "FlePrivateKey"),
        bucketByPrefix("images"),
        bucketByPrefix("inbox"),
        bucketByPrefix("log-archive"),
      ];
      for (const r of kept) {
        expect(Boolean(r.opts.protect), r.name).toBe(stageName === "prod");
        expect(Boolean(r.opts.retainOnDelete), r.name).toBe(stageName === "prod");
      }
    });
  });

  describe(`${stageName}: regions`, () => {
    it("creates every data-bearing resource in the home region (but the edge signer's own logs)", () => {
      const outside = s.resources.filter(
        (r) => dataBearing.includes(r.type) && r.region !== homeRegion && !edgeLogs.includes(r.name),
      );
      expect(outside.map((r) => `${r.type} ${r.name} ${r.region}`)).toEqual([]);
    });

    it("puts only the edge function, the WAF ACL, the certificate (and Shield) in us-east-1", () => {
      const inEdge = s.resources.filter((r) => r.region === edgeRegion).map((r) => `${r.type}::${r.name}`);
      const allowed = [
        "aws:lambda/function:Function::EdgeSigner",
        "aws:wafv2/webAcl:WebAcl::WebAcl",
        "aws:acm/certificate:Certificate::Certificate",
        "aws:acm/certificateValidation:CertificateValidation::CertificateValidation",
        "aws:shield/protection:Protection::ShieldAdvanced",
        // Its logs, which CloudWatch keeps in us-east-1, encrypted with a key of that region (edge.ts).
        "aws:kms/key:Key::EdgeLogsKey",
        "aws:cloudwatch/logGroup:LogGroup::EdgeSignerLogGroup",
        "aws:cloudwatch/logGroup:LogGroup::EdgeSignerReplicaLogGroup",
        `${T.dataProtection}::EdgeSignerLogGroupDataProtection`,
        `${T.dataProtection}::EdgeSignerReplicaLogGroupDataProtection`,
      ];
      expect(inEdge.filter((r) => !allowed.includes(r))).toEqual([]);
      expect(inEdge).toContain("aws:lambda/function:Function::EdgeSigner");
      expect(inEdge).toContain("aws:wafv2/webAcl:WebAcl::WebAcl");
      expect(inEdge).toContain("aws:acm/certificate:Certificate::Certificate");
      const regions = new Set(s.resources.map((r) => r.region));
      expect([...regions].sort()).toEqual([edgeRegion, homeRegion].sort());
    });
  });
}
