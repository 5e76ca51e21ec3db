/**
 * Look-ups the per-module stack tests share: resource types, parsed policies, and helpers bound to one
 * shared stage's stack (its physical names, role policies, buckets, API Gateway paths).
 */
import { expect } from "vitest";
import { type StageConfig, stageConfig } from "../stage.ts";
import { type Recorded, type Stack, testAccount } from "./harness.ts";
import type { SharedStage } from "./stages.ts";

export const T = {
  key: "aws:kms/key:Key",
  alias: "aws:kms/alias:Alias",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  bucket: "aws:s3/bucket:Bucket",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  lambda: "aws:lambda/function:Function",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  dataProtection: "aws:cloudwatch/logDataProtectionPolicy:LogDataProtectionPolicy",
  db: "aws:rds/instance:Instance",
  distribution: "aws:cloudfront/distribution:Distribution",
} as const;

// biome-ignore lint/suspicious/noExplicitAny: parsed policy documents
export type Doc = { Statement: any[] };
export const parse = (s: unknown): Doc => JSON.parse(String(s)) as Doc;
export const asArray = <V>(v: V | V[] | undefined): V[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];
export const roleArn = (name: string) => `arn:aws:iam::${testAccount}:role/${name}`;
export const bucketArn = (b: Recorded) => String(b.state.arn);

/** Helpers over the stack of `stageName`, which `stack()` returns once the file's `beforeAll` loaded it. */
export function stackHelpers(stageName: SharedStage, stack: () => Stack) {
  const stage: StageConfig = stageConfig(stageName);
  const n = (part: string) => `veil-${stageName}-${part}`;
  const policyOf = (roleName: string): Doc[] =>
    stack()
      .ofType(T.rolePolicy)
      .filter((p) => p.inputs.role === roleName)
      .map((p) => parse(p.inputs.policy));
  const bucketByPrefix = (part: string): Recorded => {
    const b = stack()
      .ofType(T.bucket)
      .find((r) => String(r.inputs.bucketPrefix).startsWith(`${n(part)}-`));
    if (!b) throw new Error(`no bucket ${part}`);
    return b;
  };
  /** The path of an API Gateway resource id, from the recorded resources. */
  const pathOf = (id: string): string => {
    const resource = stack()
      .ofType("aws:apigateway/resource:Resource")
      .find((r) => r.id === id);
    if (!resource) return "";
    return `${pathOf(resource.inputs.parentId)}/${resource.inputs.pathPart}`;
  };
  const integrationOf = (method: string, path: string) => {
    const found = stack()
      .ofType("aws:apigateway/integration:Integration")
      .filter((i) => i.inputs.httpMethod === method && pathOf(i.inputs.resourceId) === path);
    expect(found, `${method} ${path}`).toHaveLength(1);
    return found[0]!.inputs;
  };
  const forBucket = (type: string, b: Recorded) =>
    stack()
      .ofType(type)
      .filter((r) => r.name.startsWith(b.name));
  return { stage, n, policyOf, bucketByPrefix, pathOf, integrationOf, forBucket };
}
