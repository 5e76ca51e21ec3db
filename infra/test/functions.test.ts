import { beforeAll, describe, expect, it } from "vitest";
import { functionNames, manifest, productionDefine } from "../../functions/manifest.ts";
import { VisibleError } from "../errors.ts";
import { resourceName, sstHandler } from "../functions.ts";
import { ingestRetryAttempts } from "../grants.ts";
import { imageCleanupSchedule } from "../image-cleanup.ts";
import { appsyncApi } from "../live-dev.ts";
import { type Stack, synthesize } from "./harness.ts";
import { lambdaReferenceCount, unorderedLambdaReferences } from "./lambda-references.ts";
import { asArray, roleArn, stackHelpers, T } from "./stack-helpers.ts";
import { type SharedStack, sharedStack, sharedStages } from "./stages.ts";

/** Functions (functions.ts) and everything that names them, on a deployed stage. */
describe("functions: whatever names a function waits for it", () => {
  let s: Stack;
  beforeAll(async () => {
    s = await synthesize("sit");
  }, 120_000);

  it("orders every resource naming a Lambda function (by name or ARN, in any input) after it", () => {
    // Permissions, event-invoke configs, S3 notifications, API integrations, schedules, alarms,
    // deploy-time invocations, the distribution's edge association.
    expect(lambdaReferenceCount(s)).toBeGreaterThanOrEqual(20);
    expect(unorderedLambdaReferences(s)).toEqual([]);
  });

  it("grants the sst dev stub's rights only under sst dev", () => {
    const policies = s.ofType("aws:iam/rolePolicy:RolePolicy").map((p) => String(p.inputs.policy));
    expect(policies.filter((p) => p.includes("appsync:"))).toEqual([]);
  });
});

describe("live-dev: SST's AppSync Events endpoint", () => {
  it("reads the API id and region from the endpoint SST reports, and refuses anything else", () => {
    const api = { id: "abc123", region: "eu-central-2" };
    expect(appsyncApi("abc123.appsync-api.eu-central-2.amazonaws.com")).toEqual(api);
    expect(appsyncApi("https://abc123.appsync-api.eu-central-2.amazonaws.com/event")).toEqual(api);
    expect(() => appsyncApi("https://example.com/event")).toThrow(VisibleError);
  });
});

/**
 * The functions of the manifest (functions.ts) and the image functions on each shared stage: builds,
 * links, roles, sizes, the ingest's retries and the cleanup's schedule.
 */
for (const stageName of sharedStages) {
  let s: SharedStack;
  const { n, policyOf, bucketByPrefix } = stackHelpers(stageName, () => s);
  beforeAll(async () => {
    s = await sharedStack(stageName);
  }, 120_000);

  describe(`${stageName}: the functions of the manifest`, () => {
    it("creates each, named after it, from its entry with its links, memory, timeout and network", () => {
      for (const name of functionNames) {
        const spec = manifest[name];
        const id = resourceName(spec);
        expect(s.builds[id].handler, name).toBe(sstHandler(spec));
        expect(Object.keys(s.builds[id].links).sort(), name).toEqual([...spec.links].sort());
        const fn = s.get(T.lambda, `${id}Function`).inputs;
        expect(fn.name, name).toBe(n(name));
        expect(fn.timeout, name).toBe(spec.timeoutSeconds);
        expect(fn.memorySize, name).toBe(spec.memoryMb);
        expect(fn.environment.variables.POWERTOOLS_SERVICE_NAME, name).toBe(`veil-${name}`);
        expect(Boolean(fn.vpcConfig), name).toBe(spec.vpc);
      }
    });

    it("bundles each with the production define (test switches compiled out) and no esbuild plugin", () => {
      for (const name of functionNames) {
        const properties = s.builds[resourceName(manifest[name])].properties;
        expect(properties.esbuild.define, name).toEqual(productionDefine);
        expect(properties.plugins, name).toBeUndefined();
      }
    });
  });

  describe(`${stageName}: image functions`, () => {
    const linksOf = (fn: string) => Object.keys(s.builds[fn].links).sort();

    it("builds each from its handler with its own role", () => {
      for (const [fn, handler, role] of [
        ["ImagesApi", "functions/src/images-api/handler.handler", "images-api"],
        ["ImagesDownload", "functions/src/images-download/handler.handler", "images-download"],
        ["ImagesIngest", "functions/src/images-ingest/handler.handler", "ingest"],
        ["ImagesCleanup", "functions/src/images-cleanup/handler.handler", "images-cleanup"],
        ["Account", "functions/src/account/handler.handler", "account"],
      ] as const) {
        expect(s.builds[fn].handler, fn).toBe(handler);
        expect(s.get(T.lambda, `${fn}Function`).inputs.role, fn).toBe(roleArn(n(role)));
      }
    });

    it("links exactly the resources of the images table (App is always linked by SST)", () => {
      expect(linksOf("ImagesApi")).toEqual(
        ["Database", "FlePublicKey", "InboxBucket", "UserPool", "UserPoolClient"].sort(),
      );
      expect(linksOf("ImagesDownload")).toEqual(
        ["Database", "ImagesBucket", "RecordsKey", "UserPool", "UserPoolClient"].sort(),
      );
      expect(linksOf("ImagesIngest")).toEqual(
        ["Database", "FleKey", "ImagesBucket", "InboxBucket", "RecordsKey"].sort(),
      );
      expect(linksOf("ImagesCleanup")).toEqual(["Database", "ImagesBucket"]);
      // The account erasure: both buckets and the pool, no key of any kind.
      expect(linksOf("Account")).toEqual(
        ["Database", "ImagesBucket", "InboxBucket", "UserPool", "UserPoolClient"].sort(),
      );
      // The records function never sees a bucket: the cleanup deletes an erased record's images.
      expect(linksOf("Records")).not.toContain("ImagesBucket");
      expect(linksOf("Records")).not.toContain("InboxBucket");
      const app = s.get(T.lambda, "ImagesApiFunction").inputs.environment.variables.SST_RESOURCE_App;
      expect(JSON.parse(app)).toEqual({ name: "veil", stage: stageName });
    });

    it("hands browsers the CloudFront FLE public key (FlePublicKey), never the private key", () => {
      const link = s.builds.ImagesApi.links.FlePublicKey;
      const cloudFrontKey = s.get("aws:cloudfront/publicKey:PublicKey", "FlePublicKey").inputs;
      expect(link.pem).toBe(cloudFrontKey.encodedKey);
      expect(link.pem).toContain("BEGIN PUBLIC KEY");
      expect(link.providerId).toBe("veil");
      expect(link.keyName).toBeTruthy();
      const bootstrap = JSON.parse(s.get("aws:lambda/invocation:Invocation", "FleKeyBootstrap").state.result);
      expect(link.keyName).toBe(bootstrap.keyName);
      expect(JSON.stringify(s.builds.ImagesApi.links)).not.toMatch(/PRIVATE KEY|secretArn/);
    });

    it("streams the download (Lambda response streaming, long enough for 25 MiB at 2 MB/s)", () => {
      const fn = s.get(T.lambda, "ImagesDownloadFunction").inputs;
      expect(fn.timeout).toBeGreaterThanOrEqual(60);
    });

    it("sizes the ingest for 25 MiB images (≥ 60 s, ≥ 512 MB) and retries it twice into a failure queue", () => {
      const fn = s.get(T.lambda, "ImagesIngestFunction").inputs;
      expect(fn.timeout).toBeGreaterThanOrEqual(60);
      expect(fn.memorySize).toBeGreaterThanOrEqual(512);
      const config = s.get(
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
        "IngestInvokeConfig",
      ).inputs;
      expect(config.functionName).toBe(n("images-ingest"));
      expect(config.maximumRetryAttempts).toBe(ingestRetryAttempts);
      expect(ingestRetryAttempts).toBe(2);
      const queue = s.get("aws:sqs/queue:Queue", "IngestFailures");
      expect(config.destinationConfig.onFailure.destination).toBe(queue.state.arn);
      expect(queue.inputs.sqsManagedSseEnabled).toBe(true);
      const send = policyOf(n("ingest"))
        .flatMap((d) => d.Statement)
        .filter((st) => asArray(st.Action).includes("sqs:SendMessage"));
      expect(send.map((st) => asArray(st.Resource))).toEqual([[queue.state.arn]]);
    });

    it("runs the cleanup of erased records' images on a schedule, and alarms when it fails", () => {
      const rule = s.get("aws:cloudwatch/eventRule:EventRule", "ImagesCleanupSchedule").inputs;
      expect(rule.scheduleExpression).toBe(imageCleanupSchedule);
      expect(rule.state).toBe("ENABLED");
      const fnArn = String(s.get(T.lambda, "ImagesCleanupFunction").state.arn);
      expect(s.get("aws:cloudwatch/eventTarget:EventTarget", "ImagesCleanupTarget").inputs.arn).toBe(fnArn);
      const invoke = s.get("aws:lambda/permission:Permission", "ImagesCleanupScheduleInvokes").inputs;
      expect(invoke).toMatchObject({ principal: "events.amazonaws.com", function: n("images-cleanup") });
      const alarms = s.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => a.inputs);
      expect(alarms).toContainEqual(
        expect.objectContaining({ metricName: "Errors", dimensions: { FunctionName: n("images-cleanup") } }),
      );
      expect(alarms).toContainEqual(
        expect.objectContaining({
          metricName: "ApproximateNumberOfMessagesVisible",
          dimensions: { QueueName: n("ingest-failures") },
        }),
      );
      // The records function holds no S3 right of any kind.
      const recordActions = policyOf(n("api")).flatMap((d) =>
        d.Statement.flatMap((st) => asArray(st.Action)),
      );
      expect(recordActions.filter((a: string) => a.startsWith("s3:"))).toEqual([]);
    });

    it("runs the ingest on uploads under inbox/ of the inbox bucket only", () => {
      const notification = s.get("aws:s3/bucketNotification:BucketNotification", "InboxNotification").inputs;
      expect(notification.bucket).toBe(bucketByPrefix("inbox").id);
      expect(notification.lambdaFunctions).toEqual([
        expect.objectContaining({ events: ["s3:ObjectCreated:*"], filterPrefix: "inbox/" }),
      ]);
    });
  });
}
