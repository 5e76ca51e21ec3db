/**
 * What every infra module needs to know: the stage settings, the account, the two regions and their
 * providers, and how to name and protect things. Built once by `sst.config.ts` and passed down, so no
 * module reads the stage name or a global region on its own.
 */
import { createHash } from "node:crypto";
import { edgeRegion, homeRegion, type StageConfig } from "./stage.ts";

export interface Ctx {
  readonly stage: StageConfig;
  /** The SST stage name (a personal stage keeps its own name while using the dev settings). */
  readonly stageName: string;
  readonly accountId: $util.Output<string>;
  readonly homeRegion: typeof homeRegion;
  readonly edgeRegion: typeof edgeRegion;
  /** Explicit provider for the home region: data-bearing resources never rely on ambient config. */
  readonly home: aws.Provider;
  /** Provider for the few resources AWS accepts only in us-east-1. */
  readonly edge: aws.Provider;
  /** `veil-<stage>-<part>`: physical names that say which stage they belong to. */
  name(part: string): string;
  /** The `bucketPrefix` of an S3 bucket: `veil-<stage>-<part>-`, shortened to fit (`bucketPrefix`). */
  bucketPrefix(part: string): string;
  /**
   * Lambda code-signing config (infra/governance.ts) attached to the handlers in prod, when given.
   * Opt-in: SST uploads unsigned bundles, so enforcing it needs a signing step in the pipeline first.
   */
  readonly codeSigningConfigArn?: string;
  /** Resource options for data-bearing resources: protected and retained in prod. */
  readonly keep: { protect: boolean; retainOnDelete: boolean };
}

/** Creates the providers and the context. */
export function createContext(
  stage: StageConfig,
  stageName: string,
  env: Readonly<Record<string, string | undefined>> = {},
): Ctx {
  const home = new aws.Provider("HomeRegion", { region: homeRegion });
  const edge = new aws.Provider("EdgeRegion", { region: edgeRegion });
  const accountId = aws.getCallerIdentityOutput({}, { provider: home }).accountId;
  return {
    stage,
    stageName,
    accountId,
    homeRegion,
    edgeRegion,
    home,
    edge,
    name: (part) => `veil-${stageName}-${part}`,
    bucketPrefix: (part) => bucketPrefix(stageName, part),
    keep: { protect: stage.protect, retainOnDelete: stage.removal === "retain" },
    codeSigningConfigArn: stage.name === "prod" ? env.VEIL_CODE_SIGNING_CONFIG_ARN : undefined,
  };
}

/**
 * The longest `bucketPrefix` the AWS provider accepts: it appends 26 characters, and a bucket name has
 * at most 63.
 */
export const maxBucketPrefixLength = 37;

/**
 * `veil-<stage>-<part>-`, or, when a long stage name would make it exceed `maxBucketPrefixLength`,
 * the stage name cut short plus 6 hex digits of its hash (still one prefix per stage, and stable).
 */
export function bucketPrefix(stageName: string, part: string): string {
  const full = `veil-${stageName}-${part}-`;
  if (full.length <= maxBucketPrefixLength) return full;
  const hash = createHash("sha256").update(stageName).digest("hex").slice(0, 6);
  const room = maxBucketPrefixLength - `veil---${part}-`.length - hash.length;
  const head = stageName.slice(0, Math.max(room, 1)).replace(/-+$/, "");
  return `veil-${head}-${hash}-${part}-`;
}

/** An IAM policy document; statements are plain objects whose values may be outputs. */
export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: Record<string, unknown>[];
}

/** A trust policy letting AWS services assume a role. */
export function serviceTrust(...services: string[]): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: services.length === 1 ? services[0] : services },
        Action: "sts:AssumeRole",
      },
    ],
  });
}

/** The statement every bucket policy starts with: no request without TLS, for anyone. */
export function denyInsecureTransport(bucketArn: $util.Input<string>): Record<string, unknown> {
  return {
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: "*",
    Action: "s3:*",
    Resource: [bucketArn, $interpolate`${bucketArn}/*`],
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  };
}

/** Serialises a policy document whose values may be outputs. */
export function policyJson(doc: PolicyDocument): $util.Output<string> {
  return $jsonStringify(doc);
}
