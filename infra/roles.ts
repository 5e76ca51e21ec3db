/**
 * The execution roles of the functions, created before everything else because the key policy and
 * the bucket policies name them. Each role starts with no permission; the module that owns a resource
 * grants exactly what a role needs on it (`grant`), so least privilege stays next to the resource.
 */
import { type Ctx, policyJson, serviceTrust } from "./context.ts";

export interface FunctionRoles {
  /**
   * The records API handler behind API Gateway: decrypts FLE, encrypts records, talks to RDS. No S3:
   * the stored images of a record it erases are deleted by the image cleanup.
   */
  readonly api: aws.iam.Role;
  /** The buffered images API: presigns inbox uploads (no KMS, no read of any object). */
  readonly imagesApi: aws.iam.Role;
  /** The streamed image download: reads stored images and decrypts them (purpose `record.image` only). */
  readonly imagesDownload: aws.iam.Role;
  /** The image ingest handler: reads the inbox bucket, writes encrypted images. */
  readonly ingest: aws.iam.Role;
  /** The scheduled image cleanup: deletes the stored images of erased records (`s3:DeleteObject` only). */
  readonly imagesCleanup: aws.iam.Role;
  /**
   * The account API (`DELETE /api/account`): erases the caller's rows and puts delete markers on their
   * objects in both buckets (`s3:DeleteObject` only); no KMS, no read of any object. Deleting the
   * Cognito user needs no IAM right: the user's own access token authorises `DeleteUser`.
   */
  readonly account: aws.iam.Role;
  /** The scheduled API-key rotation. Never touches data or the key. */
  readonly rotate: aws.iam.Role;
  /** The one-off FLE key-pair generator: may write the private-key secret, never read it. */
  readonly fleBootstrap: aws.iam.Role;
}

/** Creates the function roles with only the basic Lambda trust and no permissions. */
export function createFunctionRoles(ctx: Ctx): FunctionRoles {
  const role = (id: string, part: string, description: string) =>
    new aws.iam.Role(
      id,
      {
        name: ctx.name(part),
        description,
        assumeRolePolicy: serviceTrust("lambda.amazonaws.com"),
        maxSessionDuration: 3600,
      },
      { provider: ctx.home },
    );
  return {
    api: role("ApiRole", "api", "Veil records API handler"),
    imagesApi: role("ImagesApiRole", "images-api", "Veil images API handler (upload presigning, list)"),
    imagesDownload: role("ImagesDownloadRole", "images-download", "Veil image download handler"),
    ingest: role("IngestRole", "ingest", "Veil image ingest handler"),
    imagesCleanup: role("ImagesCleanupRole", "images-cleanup", "Veil cleanup of erased records' images"),
    account: role("AccountRole", "account", "Veil account API handler (erasure)"),
    rotate: role("RotateApiKeyRole", "rotate-api-key", "Veil API key rotation"),
    fleBootstrap: role("FleBootstrapRole", "fle-bootstrap", "Veil FLE key-pair bootstrap"),
  };
}

/** Attaches one named inline policy to a role. */
export function grant(
  ctx: Ctx,
  id: string,
  role: aws.iam.Role,
  statements: Record<string, unknown>[],
): aws.iam.RolePolicy {
  return new aws.iam.RolePolicy(
    id,
    { role: role.name, policy: policyJson({ Version: "2012-10-17", Statement: statements }) },
    { provider: ctx.home },
  );
}

/** Statements every VPC-attached, traced function needs: its own log group, ENIs, X-Ray. */
export function baseStatements(
  logGroupArn: $util.Input<string>,
  opts: { vpc: boolean },
): Record<string, unknown>[] {
  const statements: Record<string, unknown>[] = [
    {
      Sid: "OwnLogGroup",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: [$interpolate`${logGroupArn}:*`],
    },
    {
      Sid: "Tracing",
      Effect: "Allow",
      Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
      Resource: "*",
    },
  ];
  if (opts.vpc) {
    statements.push({
      Sid: "VpcNetworkInterfaces",
      Effect: "Allow",
      Action: [
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
      ],
      Resource: "*",
    });
  }
  return statements;
}
