/**
 * Scheduled Lambda: rotates the CloudFront → API Gateway API key (logic in rotate.ts). Targets come
 * from the `RotationTarget` link (infra/rotation.ts); the role may touch only that usage plan's keys
 * and that distribution.
 */
import {
  APIGatewayClient,
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  GetUsagePlanKeysCommand,
} from "@aws-sdk/client-api-gateway";
import {
  CloudFrontClient,
  GetDistributionCommand,
  GetDistributionConfigCommand,
  UpdateDistributionCommand,
} from "@aws-sdk/client-cloudfront";
import { headers } from "@veil/core";
import { createLogger } from "@veil/log";
import type { Context } from "aws-lambda";
import { linked } from "../shared/resources.ts";
import { type CdnPort, type GatewayPort, type RotateResult, rotateApiKey } from "./rotate.ts";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function gatewayPort(
  client: APIGatewayClient,
  usagePlanId: string,
  tags: Record<string, string>,
): GatewayPort {
  return {
    async createKey(name) {
      const r = await client.send(new CreateApiKeyCommand({ name, enabled: true, tags }));
      if (!r.id || !r.value) throw new Error("CreateApiKey returned no key");
      return { id: r.id, value: r.value };
    },
    async addToUsagePlan(keyId) {
      await client.send(new CreateUsagePlanKeyCommand({ usagePlanId, keyId, keyType: "API_KEY" }));
    },
    async deleteKey(keyId) {
      await client.send(new DeleteApiKeyCommand({ apiKey: keyId }));
    },
    async listKeys() {
      const r = await client.send(new GetUsagePlanKeysCommand({ usagePlanId, limit: 500 }));
      return (r.items ?? []).flatMap((k) => (k.id ? [{ id: k.id, name: k.name ?? "" }] : []));
    },
  };
}

function cdnPort(client: CloudFrontClient, id: string, originId: string, deadline: () => number): CdnPort {
  const load = async () => {
    const r = await client.send(new GetDistributionConfigCommand({ Id: id }));
    const origin = r.DistributionConfig?.Origins?.Items?.find((o) => o.Id === originId);
    if (!r.DistributionConfig || !origin) throw new Error(`origin ${originId} not found`);
    return { config: r.DistributionConfig, etag: r.ETag, origin };
  };
  return {
    async getOriginHeader() {
      const { origin } = await load();
      return origin.CustomHeaders?.Items?.find((h) => h.HeaderName?.toLowerCase() === headers.apiKey)
        ?.HeaderValue;
    },
    async setOriginHeader(value) {
      const { config, etag, origin } = await load();
      const others = (origin.CustomHeaders?.Items ?? []).filter(
        (h) => h.HeaderName?.toLowerCase() !== headers.apiKey,
      );
      const items = [...others, { HeaderName: headers.apiKey, HeaderValue: value }];
      origin.CustomHeaders = { Quantity: items.length, Items: items };
      await client.send(new UpdateDistributionCommand({ Id: id, IfMatch: etag, DistributionConfig: config }));
    },
    async waitDeployed() {
      while (Date.now() < deadline()) {
        const r = await client.send(new GetDistributionCommand({ Id: id }));
        if (r.Distribution?.Status === "Deployed") return true;
        await sleep(15_000);
      }
      return false;
    },
  };
}

/** Lambda entry point (schedule or deploy-time invocation). */
export async function handler(_event: unknown, context: Context): Promise<RotateResult> {
  const target = linked("RotationTarget");
  const logger = createLogger({ serviceName: "veil-rotate-api-key" });
  // Leave a minute of the Lambda timeout for the last calls and the response.
  const deadline = () => Date.now() + context.getRemainingTimeInMillis() - 60_000;
  const stop = deadline();
  return rotateApiKey({
    gateway: gatewayPort(new APIGatewayClient({}), target.usagePlanId, target.keyTags),
    cdn: cdnPort(
      new CloudFrontClient({ region: "us-east-1" }),
      target.distributionId,
      target.originId,
      () => stop,
    ),
    now: () => new Date(),
    keyNamePrefix: target.keyNamePrefix,
    logger: { info: (m, f) => logger.info(m, f ?? {}), warn: (m, f) => logger.warn(m, f ?? {}) },
  });
}
