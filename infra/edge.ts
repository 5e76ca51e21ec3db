/**
 * The Lambda@Edge SigV4 signer (code in edge/, bundled by `edge/build.ts`). Lambda@Edge has no
 * environment variables, so the API host and region are written into the bundle at deploy time, once
 * the API's host name is known. Deployed in us-east-1 as a published version (CloudFront needs a
 * numbered version), with a role that edgelambda.amazonaws.com may assume and that may invoke this API
 * only. No VPC, no layers, no X-Ray: Lambda@Edge supports none of them.
 *
 * Logs: Lambda@Edge writes to `/aws/lambda/us-east-1.<name>` in the region serving a request, and to
 * `/aws/lambda/<name>` for calls in us-east-1 itself. Both groups are created here in us-east-1,
 * encrypted with a logs key of that region (CloudWatch Logs accepts no key of another), retained and
 * masked like the home region's; the role may write to these two and create none, so no unencrypted,
 * never-expiring group appears anywhere. Replicas in other regions (which the region fence closes too)
 * therefore write no logs: the API's access logs in the home region record every request.
 */
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Ctx } from "./context.ts";
import { policyJson, serviceTrust } from "./context.ts";
import { logsKeyPolicy } from "./key-policies.ts";
import { customerKeySettings } from "./kms.ts";
import { createLogGroup } from "./logs.ts";

/** Builds the edge bundle for an API and returns the path of its `index.mjs`. */
export type EdgeBundler = (config: { region: string; apiHost: string; outfile: string }) => Promise<string>;

/** Runs `tsx edge/build.ts --region … --api-host … --outfile …` from the repository root. */
export const buildEdgeBundle: EdgeBundler = ({ region, apiHost, outfile }) =>
  new Promise((resolve, reject) => {
    mkdirSync(dirname(outfile), { recursive: true });
    const tsx = join(process.cwd(), "node_modules", ".bin", "tsx");
    const child = spawn(
      tsx,
      ["edge/build.ts", "--region", region, "--api-host", apiHost, "--outfile", outfile],
      {
        stdio: ["ignore", "inherit", "inherit"],
      },
    );
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve(outfile) : reject(new Error(`edge build exited with ${code}`)),
    );
  });

export interface Edge {
  readonly fn: aws.lambda.Function;
  readonly role: aws.iam.Role;
  /** The published version ARN CloudFront associates. */
  readonly qualifiedArn: $util.Output<string>;
}

export interface EdgeArgs {
  readonly apiHost: $util.Input<string>;
  /** `arn:aws:execute-api:…:<api>/<stage>/*`. */
  readonly apiInvokeArn: $util.Input<string>;
  /** The role that manages (never uses) the logs keys (kms.ts). */
  readonly keyAdminRoleArn: $util.Input<string>;
  readonly bundler?: EdgeBundler;
}

/**
 * How long deleting the function may take: CloudFront removes the replicas hours after the distribution
 * dropped the association, and Lambda refuses to delete a replicated function until then (the provider
 * retries within this time).
 */
export const edgeDeleteTimeout = "4h";

const edgeName = (ctx: Ctx) => ctx.name("edge-signer");

/** The edge role's ARN, known before the role exists (the API's resource policy needs it first). */
export function edgeRoleArn(ctx: Ctx): $util.Output<string> {
  return $interpolate`arn:aws:iam::${ctx.accountId}:role/${edgeName(ctx)}`;
}

/** Creates the edge role, its policy and the published function in us-east-1. */
export function createEdge(ctx: Ctx, args: EdgeArgs): Edge {
  const functionName = edgeName(ctx);
  const logsKey = new aws.kms.Key(
    "EdgeLogsKey",
    {
      description: `Veil ${ctx.stageName}: logs of the edge signer (us-east-1), no health data`,
      ...customerKeySettings,
      policy: policyJson(
        logsKeyPolicy({
          accountId: ctx.accountId,
          region: ctx.edgeRegion,
          adminRoleArn: args.keyAdminRoleArn,
        }),
      ),
    },
    { provider: ctx.edge, ...ctx.keep },
  );
  const logGroups = [
    createLogGroup(ctx, "EdgeSignerLogGroup", `/aws/lambda/${functionName}`, {
      logsKeyArn: logsKey.arn,
      provider: ctx.edge,
    }),
    createLogGroup(ctx, "EdgeSignerReplicaLogGroup", `/aws/lambda/${ctx.edgeRegion}.${functionName}`, {
      logsKeyArn: logsKey.arn,
      provider: ctx.edge,
    }),
  ];
  const role = new aws.iam.Role(
    "EdgeSignerRole",
    {
      name: functionName, // Lambda runs it in us-east-1; edgelambda replicates and runs it at the edge.
      assumeRolePolicy: serviceTrust("lambda.amazonaws.com", "edgelambda.amazonaws.com"),
      maxSessionDuration: 3600,
    },
    { provider: ctx.home },
  );
  new aws.iam.RolePolicy(
    "EdgeSignerPolicy",
    {
      role: role.name,
      policy: policyJson({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "InvokeThisApiOnly",
            Effect: "Allow",
            Action: "execute-api:Invoke",
            Resource: [args.apiInvokeArn],
          },
          {
            Sid: "OwnLogGroupsOnly",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: logGroups.map((g) => $interpolate`${g.arn}:*`),
          },
        ],
      }),
    },
    { provider: ctx.home },
  );
  const bundler = args.bundler ?? buildEdgeBundle;
  const code = $util.output(args.apiHost).apply(async (apiHost) => {
    const outfile = join(process.cwd(), ".sst", "artifacts", `edge-signer-${ctx.stageName}`, "index.mjs");
    const file = await bundler({ region: ctx.homeRegion, apiHost, outfile });
    return new $util.asset.AssetArchive({ "index.mjs": new $util.asset.FileAsset(file) });
  });
  const fn = new aws.lambda.Function(
    "EdgeSigner",
    {
      name: functionName,
      description: "Veil: SigV4-signs /api/* origin requests for API Gateway (IAM auth)",
      role: role.arn,
      runtime: "nodejs22.x",
      architectures: ["x86_64"],
      handler: "index.handler",
      code,
      publish: true,
      memorySize: 128,
      timeout: 5,
    },
    { provider: ctx.edge, dependsOn: logGroups, customTimeouts: { delete: edgeDeleteTimeout } },
  );
  return { fn, role, qualifiedArn: fn.qualifiedArn };
}
