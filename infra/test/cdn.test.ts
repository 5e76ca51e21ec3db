import { bodyGuardFunctionCode, fleFields, headers, proofOfPossession } from "@veil/core";
import { beforeAll, describe, expect, it } from "vitest";
import { apiKeyPlaceholder, type ListedApiKey, liveApiKeyValue } from "../api-origin-key.ts";
import { managedPolicies } from "../cdn.ts";
import { apiKeyStageTag } from "../rotation.ts";
import { spkiSha256 } from "../site.ts";
import { managedRuleGroups } from "../waf.ts";
import { type Stack, synthesize, updateInputs } from "./harness.ts";
import { stackHelpers, T } from "./stack-helpers.ts";
import { type SharedStack, sharedStack, sharedStages } from "./stages.ts";

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

/**
 * The distribution (cdn.ts) on each shared stage: field-level encryption, behaviours, security
 * headers, WAF and Shield.
 */
for (const stageName of sharedStages) {
  let s: SharedStack;
  const { stage } = stackHelpers(stageName, () => s);
  beforeAll(async () => {
    s = await sharedStack(stageName);
  }, 120_000);

  describe(`${stageName}: CloudFront`, () => {
    const dist = () => s.get(T.distribution, "Distribution").inputs;
    const apiBehavior = () =>
      dist().orderedCacheBehaviors.find((b: { pathPattern: string }) => b.pathPattern === "/api/*");

    it("encrypts exactly the classification's sensitive fields with the bootstrap's public key", () => {
      const key = s.get("aws:cloudfront/publicKey:PublicKey", "FlePublicKey").inputs;
      expect(key.encodedKey).toContain("BEGIN PUBLIC KEY");
      const profile = s.get(
        "aws:cloudfront/fieldLevelEncryptionProfile:FieldLevelEncryptionProfile",
        "FleProfile",
      ).inputs;
      expect(profile.encryptionEntities.items).toHaveLength(1);
      expect(profile.encryptionEntities.items[0].fieldPatterns.items).toEqual([...fleFields]);
      const config = s.get(
        "aws:cloudfront/fieldLevelEncryptionConfig:FieldLevelEncryptionConfig",
        "FleConfig",
      ).inputs;
      expect(config.contentTypeProfileConfig.contentTypeProfiles.items[0]).toMatchObject({
        contentType: "application/x-www-form-urlencoded",
        format: "URLEncoded",
      });
      expect(apiBehavior().fieldLevelEncryptionId).toBeTruthy();
    });

    it("writes /config.json for the app: its pool and client (SRP), the inbox origin and the pinned upload key", () => {
      const object = s.get("aws:s3/bucketObjectv2:BucketObjectv2", "WebRuntimeConfig").inputs;
      expect(object).toMatchObject({
        key: "config.json",
        contentType: "application/json",
        cacheControl: "no-cache",
      });
      const config = JSON.parse(object.content);
      // The key CloudFront encrypts with, as the FLE bootstrap returned it.
      const flePublicKeyPem = s.get("aws:cloudfront/publicKey:PublicKey", "FlePublicKey").inputs.encodedKey;
      const pool = s.ofType("aws:cognito/userPool:UserPool")[0]!;
      const client = s.ofType("aws:cognito/userPoolClient:UserPoolClient")[0]!;
      expect(config).toEqual({
        region: "eu-central-2",
        stage: stageName,
        cognito: { userPoolId: pool.id, userPoolClientId: client.id, authFlow: "USER_SRP_AUTH" },
        uploadOrigins: [
          expect.stringMatching(/^https:\/\/veil-[a-z0-9-]+-inbox-[^.]+\.s3\.eu-central-2\.amazonaws\.com$/),
        ],
        uploadKeySha256: [spkiSha256(flePublicKeyPem)],
      });
    });

    it("forwards every viewer header but Host to the API (the DPoP proof, and the viewer host the guard sets)", () => {
      // The managed AllViewerExceptHostHeader policy, by its documented id: a policy listing headers
      // instead would drop the proof (401 on every request) or the viewer host.
      expect(managedPolicies.allViewerExceptHostHeader).toBe("b689b0a8-53d0-40ab-baf2-68738e2966ac");
      expect(apiBehavior().originRequestPolicyId).toBe(managedPolicies.allViewerExceptHostHeader);
      const guard = s.get("aws:cloudfront/function:Function", "ApiBodyGuard").inputs;
      expect(guard.code).toBe(bodyGuardFunctionCode());
      expect(guard.code).toContain(JSON.stringify(proofOfPossession.viewerHostHeader));
      expect(apiBehavior().functionAssociations).toEqual([
        { eventType: "viewer-request", functionArn: expect.stringContaining("api-body-guard") },
      ]);
    });

    it("sends /api/* to the API: https only, all methods, no caching, API key header, signer on origin-request", () => {
      const b = apiBehavior();
      expect(b.viewerProtocolPolicy).toBe("https-only");
      expect([...b.allowedMethods].sort()).toEqual([
        "DELETE",
        "GET",
        "HEAD",
        "OPTIONS",
        "PATCH",
        "POST",
        "PUT",
      ]);
      expect(b.cachePolicyId).toBe(managedPolicies.cachingDisabled);
      expect(b.lambdaFunctionAssociations).toEqual([
        {
          eventType: "origin-request",
          includeBody: true,
          lambdaArn: expect.stringMatching(/:function:veil-\w+-edge-signer:1$/),
        },
      ]);
      const origin = dist().origins.find((o: { originId: string }) => o.originId === b.targetOriginId);
      expect(origin.domainName).toBe(s.outputs.apiHost);
      expect(origin.customOriginConfig).toMatchObject({
        originProtocolPolicy: "https-only",
        originSslProtocols: ["TLSv1.2"],
      });
      expect(origin.customHeaders.map((h: { name: string }) => h.name)).toEqual(["x-api-key"]);
      // The header is a real input (the live key, cdn.test.ts), never ignored: see cdn.ts.
      expect(s.get(T.distribution, "Distribution").opts.ignoreChanges ?? []).toEqual([]);
    });

    it("serves the static site through origin access control, TLS 1.2+, security headers, WAF", () => {
      const d = dist();
      const web = d.origins.find(
        (o: { originId: string }) => o.originId === d.defaultCacheBehavior.targetOriginId,
      );
      expect(web.originAccessControlId).toBeTruthy();
      expect(d.viewerCertificate).toMatchObject({
        minimumProtocolVersion: "TLSv1.2_2021",
        sslSupportMethod: "sni-only",
      });
      expect(d.viewerCertificate.cloudfrontDefaultCertificate).toBeUndefined();
      expect(d.webAclId).toMatch(/webacl/);
      const h = s.get("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy", "SecurityHeaders").inputs
        .securityHeadersConfig;
      expect(h.strictTransportSecurity.accessControlMaxAgeSec).toBeGreaterThanOrEqual(31536000);
      const csp = String(h.contentSecurityPolicy.contentSecurityPolicy);
      const scriptSrc = csp.split(";").find((d) => d.trim().startsWith("script-src")) ?? "";
      expect(scriptSrc).not.toContain("unsafe-inline");
      expect(scriptSrc).not.toContain("unsafe-eval");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(h.contentTypeOptions.override).toBe(true);
      expect(h.referrerPolicy.referrerPolicy).toBe("no-referrer");
      expect(d.defaultCacheBehavior.responseHeadersPolicyId).toBe(apiBehavior().responseHeadersPolicyId);
    });

    it("has a WAF with the AWS managed rule groups and a per-IP rate rule at the stage's limit", () => {
      const acl = s.get("aws:wafv2/webAcl:WebAcl", "WebAcl").inputs;
      expect(acl.scope).toBe("CLOUDFRONT");
      const groups = acl.rules.flatMap(
        (r: { statement: { managedRuleGroupStatement?: { name: string } } }) =>
          r.statement.managedRuleGroupStatement ? [r.statement.managedRuleGroupStatement.name] : [],
      );
      expect(groups).toEqual([...managedRuleGroups]);
      const rate = acl.rules.find(
        (r: { statement: { rateBasedStatement?: unknown } }) => r.statement.rateBasedStatement,
      );
      expect(rate.action).toEqual({ block: {} });
      expect(rate.statement.rateBasedStatement).toMatchObject({
        limit: stage.waf.ratePerIp5Min,
        aggregateKeyType: "IP",
      });
    });

    it("is protected by Shield Advanced exactly in prod", () => {
      expect(s.ofType("aws:shield/protection:Protection")).toHaveLength(stage.shieldAdvanced ? 1 : 0);
      expect(stage.shieldAdvanced).toBe(stageName === "prod");
    });
  });
}
