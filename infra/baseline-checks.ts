/**
 * What the account baseline (`baseline.ts`) checks and which of its findings page someone: the
 * GuardDuty plans, the Security Hub standard, the AWS Config rules and the EventBridge finding patterns.
 */

/** GuardDuty protection plans switched on besides the foundational data sources. */
export const guardDutyFeatures = ["S3_DATA_EVENTS", "RDS_LOGIN_EVENTS", "LAMBDA_NETWORK_LOGS"] as const;

/** The Security Hub standard the account is measured against (regional ARN, no account). */
export const foundationalStandard = (region: string) =>
  `arn:aws:securityhub:${region}::standards/aws-foundational-security-best-practices/v/1.0.0`;

/** AWS Config managed rules, one per control of Veil that Config can watch (identifier → what it checks). */
export const configRules = {
  S3_BUCKET_SSL_REQUESTS_ONLY: "bucket policies refuse plain HTTP",
  S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED: "every bucket has default encryption",
  S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED: "every bucket blocks public access",
  S3_BUCKET_VERSIONING_ENABLED: "every bucket keeps versions (restore-image)",
  RDS_STORAGE_ENCRYPTED: "database storage is encrypted",
  RDS_INSTANCE_PUBLIC_ACCESS_CHECK: "the database is not publicly accessible",
  RDS_SNAPSHOTS_PUBLIC_PROHIBITED: "no database snapshot is public",
  RDS_INSTANCE_IAM_AUTHENTICATION_CONFIGURED: "IAM database authentication is on",
  DB_INSTANCE_BACKUP_ENABLED: "automated backups (point-in-time recovery) are on",
  CMK_BACKING_KEY_ROTATION_ENABLED: "customer-managed keys rotate",
  KMS_CMK_NOT_SCHEDULED_FOR_DELETION: "no customer-managed key is about to be deleted",
  CLOUD_TRAIL_ENABLED: "a trail records the account",
  CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED: "trail files carry digests",
  CLOUD_TRAIL_ENCRYPTION_ENABLED: "trail files are encrypted with a KMS key",
  LAMBDA_FUNCTION_PUBLIC_ACCESS_PROHIBITED: "no function policy admits the public",
  IAM_ROOT_ACCESS_KEY_CHECK: "the root user has no access key",
} as const;

/**
 * EventBridge patterns of the findings that page someone: every Macie finding (the buckets hold only
 * ciphertext), medium-and-up GuardDuty findings, high and critical Security Hub and Inspector findings,
 * active Access Analyzer findings, and every Config rule of this module turning non-compliant.
 */
export function findingPatterns(configRulePrefix: string): Record<string, Record<string, unknown>> {
  return {
    GuardDuty: {
      source: ["aws.guardduty"],
      "detail-type": ["GuardDuty Finding"],
      detail: { severity: [{ numeric: [">=", 4] }] },
    },
    SecurityHub: {
      source: ["aws.securityhub"],
      "detail-type": ["Security Hub Findings - Imported"],
      detail: {
        findings: {
          Severity: { Label: ["HIGH", "CRITICAL"] },
          Workflow: { Status: ["NEW"] },
          RecordState: ["ACTIVE"],
        },
      },
    },
    Config: {
      source: ["aws.config"],
      "detail-type": ["Config Rules Compliance Change"],
      detail: {
        configRuleName: [{ prefix: configRulePrefix }],
        newEvaluationResult: { complianceType: ["NON_COMPLIANT"] },
      },
    },
    AccessAnalyzer: {
      source: ["aws.access-analyzer"],
      "detail-type": ["Access Analyzer Finding"],
      detail: { status: ["ACTIVE"] },
    },
    Inspector: {
      source: ["aws.inspector2"],
      "detail-type": ["Inspector2 Finding"],
      detail: { severity: ["HIGH", "CRITICAL"], status: ["ACTIVE"] },
    },
    Macie: { source: ["aws.macie"], "detail-type": ["Macie Finding"] },
  };
}
