/**
 * The Lambda@Edge SigV4 signer (code in edge/, bundled by `edge/build.ts`). Lambda@Edge has no
 * environment variables, so the API host and region are written into the bundle at deploy time, once
 * the API's host name is known. Deployed in us-east-1 as a published version (CloudFront needs a
 * numbered version), with a role that edgelambda.amazonaws.com may assume and that may invoke this API
 * only. No VPC, no layers, no X-Ray: Lambda@Edge supports none of them.
 */
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Ctx } from "./context.ts";
import { policyJson, serviceTrust } from "./context.ts";

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
  readonly bundler?: EdgeBundler;
}

const edgeName = (ctx: Ctx) => ctx.name("edge-signer");

/** The edge role's ARN, known before the role exists (the API's resource policy needs it first). */
export function edgeRoleArn(ctx: Ctx): $util.Output<string> {
  return $interpolate`arn:aws:iam::${ctx.accountId}:role/${edgeName(ctx)}`;
}

/** Creates the edge role, its policy and the published function in us-east-1. */
export function createEdge(ctx: Ctx, args: EdgeArgs): Edge {
  const functionName = edgeName(ctx);
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
            Sid: "OwnReplicaLogs",
            Effect: "Allow",
            Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: $interpolate`arn:aws:logs:*:${ctx.accountId}:log-group:/aws/lambda/${ctx.edgeRegion}.${functionName}:*`,
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
    { provider: ctx.edge },
  );
  return { fn, role, qualifiedArn: fn.qualifiedArn };
}
