import { headers } from "@veil/core";
import { beforeAll, describe, expect, it } from "vitest";
import { apiKeyPlaceholder, type ListedApiKey, liveApiKeyValue } from "../cdn.ts";
import { apiKeyStageTag } from "../rotation.ts";
import { type Stack, synthesize, updateInputs } from "./harness.ts";

const keyName = (time: string, stage = "dev") => `veil-${stage}-cloudfront-${time}`;
const tags = (stage: string) => ({ [apiKeyStageTag]: stage });

/** The API keys API Gateway holds after the first deploy's rotation (and one of another stage). */
const rotated = [
  { name: keyName("2026-01-01T10-00-00-000Z"), value: "live-key", enabled: true, tags: tags("dev") },
  { name: keyName("2025-12-01T10-00-00-000Z"), value: "replaced-key", enabled: true, tags: tags("dev") },
  {
    name: keyName("2026-02-01T10-00-00-000Z", "dev-x"),
    value: "other-stage",
    enabled: true,
    tags: tags("dev-x"),
  },
  { name: "veil-dev-cloudfront-disabled", value: "disabled-key", enabled: false, tags: tags("dev") },
  // Newer keys under this stage's prefix that the rotation did not make: one untagged, one tagged for
  // another stage (anyone who may create API keys can name one so).
  { name: keyName("2026-03-01T10-00-00-000Z"), value: "untagged-key", enabled: true },
  { name: keyName("2026-03-02T10-00-00-000Z"), value: "foreign-key", enabled: true, tags: tags("prod") },
];

const apiOrigin = (inputs: Record<string, unknown>) =>
  (inputs.origins as { originId: string; customHeaders: { name: string; value: string }[] }[]).find(
    (o) => o.originId === "api",
  )!;
const sentKey = (inputs: Record<string, unknown>) =>
  apiOrigin(inputs).customHeaders.find((h) => h.name === headers.apiKey)?.value;

describe("cdn: the API key header survives every later deploy", () => {
  let first: Stack;
  let second: Stack;
  beforeAll(async () => {
    first = await synthesize("dev");
    // A later deploy: the rotation has replaced the placeholder, and a distribution input changed.
    second = await synthesize(
      "dev",
      { VEIL_DOMAIN: "dev2.veil.example.com" },
      { invokes: { "aws:apigateway/getApiKeys:getApiKeys": () => ({ id: "keys", items: rotated }) } },
    );
  }, 240_000);

  const distribution = (s: Stack) => s.get("aws:cloudfront/distribution:Distribution", "Distribution");

  it("sends the placeholder only on the first deploy, when no key exists yet", () => {
    expect(sentKey(distribution(first).inputs)).toBe(apiKeyPlaceholder);
  });

  it("writes the live key, not the placeholder, when a later deploy updates the distribution", () => {
    const before = distribution(first);
    const after = distribution(second);
    expect(after.inputs.aliases).not.toEqual(before.inputs.aliases);
    // What the update sends, with Pulumi's ignoreChanges semantics applied.
    expect(sentKey(updateInputs(before, after))).toBe("live-key");
    // Pulumi state keeps the key encrypted.
    expect(after.secretInputs).toContain("origins");
  });

  it("picks the newest enabled key of this stage's rotation", () => {
    const p = { keyNamePrefix: "veil-dev-cloudfront-", stageTag: apiKeyStageTag, stageName: "dev" };
    expect(liveApiKeyValue(rotated, p)).toBe("live-key");
    expect(liveApiKeyValue([], p)).toBe(apiKeyPlaceholder);
    // A stage whose name extends this prefix does not count, neither does a key tagged for another stage.
    const clash = [{ name: keyName("2027-01-01T00-00-00-000Z"), value: "x", enabled: true, tags: tags("y") }];
    expect(liveApiKeyValue([...rotated, ...clash], p)).toBe("live-key");
  });

  it("never takes a key without this stage's tag, however it is named: the placeholder rather than one", () => {
    const p = { keyNamePrefix: "veil-dev-cloudfront-", stageTag: apiKeyStageTag, stageName: "dev" };
    const untagged = rotated.filter((k) => k.tags === undefined);
    const foreign = rotated.filter((k) => k.tags !== undefined && k.tags[apiKeyStageTag] !== "dev");
    expect(untagged).toHaveLength(1);
    expect(liveApiKeyValue(untagged, p)).toBe(apiKeyPlaceholder);
    expect(liveApiKeyValue(foreign, p)).toBe(apiKeyPlaceholder);
    // Other tags beside it do not make a key ours, nor does a tag key differing in case.
    const lookalikes: ListedApiKey[] = [
      { name: keyName("2027-02-01T00-00-00-000Z"), value: "a", enabled: true, tags: { other: "dev" } },
      { name: keyName("2027-02-02T00-00-00-000Z"), value: "b", enabled: true, tags: { "VEIL:STAGE": "dev" } },
    ];
    expect(liveApiKeyValue(lookalikes, p)).toBe(apiKeyPlaceholder);
  });
});
