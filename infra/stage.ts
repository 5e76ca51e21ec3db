/**
 * The one typed description of the stages. Every stage-dependent choice of the infrastructure reads
 * from here; nothing else branches on the stage name. Pure data: no Pulumi, no globals, so it can be
 * imported by `sst.config.ts`'s `app()` and tested directly.
 */
import { VisibleError } from "./errors.ts";

/** Where customer data lives. Every data-bearing resource is created here. */
export const homeRegion = "eu-central-2";

/**
 * The one other region, for what AWS only accepts there: the Lambda@Edge function, the CloudFront WAF
 * web ACL and the CloudFront ACM certificate (plus the Shield protection of the distribution).
 */
export const edgeRegion = "us-east-1";

export type StageName = "dev" | "sit" | "prod";

export interface StageConfig {
  readonly name: StageName;
  /** SST removal policy: what `sst remove` (and replacement) does to stateful resources. */
  readonly removal: "remove" | "retain";
  /** SST `protect` plus Pulumi `protect` on data-bearing resources: deletion needs a code change. */
  readonly protect: boolean;
  /** Cognito MFA: required in prod, optional (TOTP) elsewhere. */
  readonly mfa: "ON" | "OPTIONAL";
  /** Cognito threat protection (advanced security, enforced); needs the Plus feature plan. */
  readonly threatProtection: boolean;
  /** AWS Shield Advanced protection on the distribution (the subscription is an account prerequisite). */
  readonly shieldAdvanced: boolean;
  /**
   * The account's detective controls (baseline.ts: GuardDuty, Security Hub, Config, Access Analyzer,
   * Inspector, Macie). One per account and region: when stages share an account, only one of them may
   * turn it on. `VEIL_ACCOUNT_BASELINE=on|off` overrides the stage's default.
   */
  readonly accountBaseline: boolean;
  readonly waf: {
    /** Requests per 5 minutes per client IP before the rate-based rule blocks. */
    readonly ratePerIp5Min: number;
  };
  readonly api: {
    /** Usage-plan steady-state requests per second and burst. */
    readonly rateLimit: number;
    readonly burstLimit: number;
  };
  readonly logs: {
    /** CloudWatch Logs retention in days (one of the values CloudWatch accepts). */
    readonly retentionDays: number;
  };
  readonly database: {
    readonly instanceClass: string;
    readonly allocatedStorageGb: number;
    readonly multiAz: boolean;
    /** Automated backups (and point-in-time recovery window) in days, 1-35. */
    readonly backupRetentionDays: number;
    readonly deletionProtection: boolean;
  };
  readonly storage: {
    /** Days a replaced or deleted object version is kept before expiry. */
    readonly noncurrentVersionDays: number;
    /** Days the access-log and audit buckets keep objects. */
    readonly auditLogDays: number;
  };
  /**
   * Days a deleted secret stays restorable. 0 on unprotected stages: the FLE and idempotency secrets
   * have fixed names, and a secret scheduled for deletion blocks a new one of that name for the whole
   * window, so a stage could not be deployed again within a week of `sst remove`.
   */
  readonly secretRecoveryWindowDays: number;
  /** How often the CloudFront → API Gateway API key is replaced. */
  readonly apiKeyRotation: string;
  /**
   * Generation of the FLE key pair. Raising it runs the in-AWS key bootstrap again: a new key pair,
   * a new CloudFront public key, and the previous private key kept as AWSPREVIOUS until traffic drains.
   */
  readonly fleKeyGeneration: number;
  /** Custom domain of the distribution (needed for TLSv1.2_2021; the default cert allows TLS 1.0). */
  readonly domain: string;
}

const base = {
  removal: "remove",
  protect: false,
  mfa: "OPTIONAL",
  threatProtection: false,
  shieldAdvanced: false,
  accountBaseline: false,
  waf: { ratePerIp5Min: 1000 },
  api: { rateLimit: 20, burstLimit: 40 },
  logs: { retentionDays: 14 },
  database: {
    instanceClass: "db.t4g.micro",
    allocatedStorageGb: 20,
    multiAz: false,
    backupRetentionDays: 3,
    deletionProtection: false,
  },
  storage: { noncurrentVersionDays: 7, auditLogDays: 30 },
  secretRecoveryWindowDays: 0,
  apiKeyRotation: "rate(30 days)",
  fleKeyGeneration: 1,
} as const satisfies Omit<StageConfig, "name" | "domain">;

const stages: Record<StageName, StageConfig> = {
  dev: { ...base, name: "dev", domain: "dev.veil.example.com" },
  sit: {
    ...base,
    name: "sit",
    domain: "sit.veil.example.com",
    logs: { retentionDays: 30 },
    database: { ...base.database, backupRetentionDays: 7 },
    storage: { noncurrentVersionDays: 30, auditLogDays: 90 },
  },
  prod: {
    name: "prod",
    domain: "veil.example.com",
    removal: "retain",
    protect: true,
    mfa: "ON",
    threatProtection: true,
    shieldAdvanced: true,
    accountBaseline: true,
    waf: { ratePerIp5Min: 2000 },
    api: { rateLimit: 100, burstLimit: 200 },
    logs: { retentionDays: 365 },
    database: {
      instanceClass: "db.t4g.medium",
      allocatedStorageGb: 50,
      multiAz: true,
      backupRetentionDays: 35,
      deletionProtection: true,
    },
    storage: { noncurrentVersionDays: 90, auditLogDays: 2557 },
    secretRecoveryWindowDays: 30,
    apiKeyRotation: "rate(7 days)",
    fleKeyGeneration: 1,
  },
};

/** The stage that deploys the organisation's guard rails (governance.ts) instead of the workload. */
export const governanceStage = "governance";

/**
 * What a personal stage's name may be: lower-case letters, digits and hyphens, starting with a letter,
 * at most 32 characters, so that every physical name derived from it (`veil-<stage>-<part>`) stays
 * within AWS's limits (64 for Lambda functions and IAM roles).
 */
export const personalStagePattern = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * Returns the configuration of a stage. The three named stages are fixed; a personal `sst dev` stage
 * (e.g. `alice`) gets the dev settings under its own name-derived domain, but only when it is declared
 * with `VEIL_PERSONAL_STAGE=<stage>`: any other name is a `VisibleError`, so a typo such as `prdo`
 * never deploys a new stack with the dev settings. `VEIL_DOMAIN` overrides the domain (a real deploy
 * needs a Route 53 zone for it); `VEIL_ACCOUNT_BASELINE=on|off` whether this stage deploys the account's
 * detective controls.
 */
export function stageConfig(
  stage: string,
  env: Readonly<Record<string, string | undefined>> = {},
): StageConfig {
  const known = (stages as Record<string, StageConfig | undefined>)[stage];
  const config = known ?? { ...stages.dev, domain: `${stage}.dev.veil.example.com` };
  if (!known && stage !== governanceStage) {
    if (env.VEIL_PERSONAL_STAGE !== stage)
      throw new VisibleError(
        `Unknown stage "${stage}". The stages are ${Object.keys(stages).join(", ")} and ${governanceStage};` +
          ` to deploy a personal stage, declare it: VEIL_PERSONAL_STAGE=${stage}.`,
      );
    if (!personalStagePattern.test(stage))
      throw new VisibleError(
        `Personal stage "${stage}" is not a valid name: use at most 32 lower-case letters, digits and` +
          " hyphens, starting with a letter.",
      );
  }
  const baseline = env.VEIL_ACCOUNT_BASELINE;
  if (baseline !== undefined && baseline !== "on" && baseline !== "off")
    throw new VisibleError(`VEIL_ACCOUNT_BASELINE must be "on" or "off", not "${baseline}"`);
  return {
    ...config,
    ...(env.VEIL_DOMAIN ? { domain: env.VEIL_DOMAIN } : {}),
    ...(baseline ? { accountBaseline: baseline === "on" } : {}),
  };
}

/** True for the three shared stages (personal stages are developer sandboxes). */
export function isSharedStage(stage: string): stage is StageName {
  return stage === "dev" || stage === "sit" || stage === "prod";
}

/**
 * Stops `sst dev` on a shared stage or the governance stage: SST would replace the stage's live
 * functions with its stub and relay real users' events, and the answers decrypted for them, to the
 * laptop running it. `sst dev` runs only on a personal stage.
 *
 * @example
 * assertDevStage($app.stage, $dev); // in sst.config.ts, before anything is planned
 */
export function assertDevStage(stage: string, dev: boolean): void {
  if (dev && (isSharedStage(stage) || stage === governanceStage))
    throw new VisibleError(
      `sst dev does not run on the ${stage} stage: it would relay that stage's live traffic to this` +
        " machine. Use a personal stage: VEIL_PERSONAL_STAGE=<name> sst dev --stage <name>.",
    );
}
