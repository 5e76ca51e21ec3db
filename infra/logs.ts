/**
 * Log groups: every log group of the stack is encrypted with the logs key, keeps logs for the stage's
 * retention, and carries a CloudWatch Logs data protection policy that masks the identifiers AWS can
 * detect. This is a second net under the application's own redaction (packages/log), not a substitute.
 */
import type { Ctx } from "./context.ts";

/**
 * The managed data identifiers masked in every log group: the kinds of personal data the records hold
 * (names, e-mail, phone numbers, addresses, dates of birth are not detectable by AWS) plus credentials.
 */
export const maskedDataIdentifiers = [
  "Name",
  "EmailAddress",
  "Address",
  "IpAddress",
  "PhoneNumber-DE",
  "PhoneNumber-FR",
  "PhoneNumber-IT",
  "PhoneNumber-GB",
  "PhoneNumber-US",
  "HealthInsuranceCardNumber-EU",
  "NationalInsuranceNumber-GB",
  "PassportNumber-DE",
  "PassportNumber-FR",
  "PassportNumber-IT",
  "CreditCardNumber",
  "BankAccountNumber-DE",
  "BankAccountNumber-FR",
  "BankAccountNumber-IT",
  "AwsSecretKey",
  "OpenSshPrivateKey",
  "PgpPrivateKey",
  "PkcsPrivateKey",
  "PuttyPrivateKey",
] as const;

/** The data protection policy document for one log group. */
export function dataProtectionPolicy(name: string): Record<string, unknown> {
  const identifiers = maskedDataIdentifiers.map((id) => `arn:aws:dataprotection::aws:data-identifier/${id}`);
  return {
    Name: name,
    Description: "Mask personal data and credentials that reach the logs despite redaction",
    Version: "2021-06-01",
    Statement: [
      {
        Sid: "audit",
        DataIdentifier: identifiers,
        Operation: { Audit: { FindingsDestination: {} } },
      },
      {
        Sid: "redact",
        DataIdentifier: identifiers,
        Operation: { Deidentify: { MaskConfig: {} } },
      },
    ],
  };
}

export interface LogGroupArgs {
  /** A KMS key in the log group's region (CloudWatch Logs accepts no other). */
  readonly logsKeyArn: $util.Input<string>;
  /** The region's provider; the home region by default. */
  readonly provider?: aws.Provider;
}

/** Creates one encrypted, retained, masked log group. */
export function createLogGroup(
  ctx: Ctx,
  id: string,
  name: string,
  args: LogGroupArgs,
): aws.cloudwatch.LogGroup {
  const group = new aws.cloudwatch.LogGroup(
    id,
    {
      name,
      kmsKeyId: args.logsKeyArn,
      retentionInDays: ctx.stage.logs.retentionDays,
      logGroupClass: "STANDARD",
    },
    { provider: args.provider ?? ctx.home },
  );
  new aws.cloudwatch.LogDataProtectionPolicy(
    `${id}DataProtection`,
    {
      logGroupName: group.name,
      policyDocument: JSON.stringify(dataProtectionPolicy(`${name}-data-protection`)),
    },
    { provider: args.provider ?? ctx.home },
  );
  return group;
}
