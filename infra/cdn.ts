/**
 * CloudFront in front of everything: the static web app from a private S3 bucket (origin access
 * control), and /api/* to API Gateway with field-level encryption, the Lambda@Edge signer
 * (origin-request, with body), the API key as an origin custom header, https only, all methods, no
 * caching. TLS 1.2 minimum with the stage's own certificate, a response-headers policy from
 * @veil/core's security headers, the WAF web ACL (waf.ts), the origin's API key (api-origin-key.ts),
 * the web app's files (site.ts), DNS and Shield Advanced in prod.
 */
import { join } from "node:path";
import { apiPrefix, bodyGuardFunctionCode, headers, securityHeaders } from "@veil/core";
import { liveApiKeyValue } from "./api-origin-key.ts";
import type { Ctx } from "./context.ts";
import { denyInsecureTransport, policyJson } from "./context.ts";
import { type RuntimeConfigInputs, uploadWeb, writeRuntimeConfig } from "./site.ts";
import { hardenCommon } from "./storage.ts";
import { createWebAcl } from "./waf.ts";

/** AWS managed CloudFront policies (fixed IDs, documented by CloudFront). */
export const managedPolicies = {
  cachingDisabled: "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
  cachingOptimized: "658327ea-f89d-4fab-a63d-7e88639e58f6",
  allViewerExceptHostHeader: "b689b0a8-53d0-40ab-baf2-68738e2966ac",
} as const;

export interface Cdn {
  readonly distribution: aws.cloudfront.Distribution;
  readonly webBucket: aws.s3.Bucket;
  readonly webAcl: aws.wafv2.WebAcl;
  readonly url: string;
}

export interface CdnArgs {
  readonly apiHost: $util.Input<string>;
  /** Which API keys are the rotation's (infra/rotation.ts): the origin header carries the newest. */
  readonly apiKeys: { readonly keyNamePrefix: string; readonly stageTag: string };
  readonly apiStageName: string;
  readonly edgeQualifiedArn: $util.Input<string>;
  readonly fleConfigId: $util.Input<string>;
  /** Origins the browser may call besides the site (Cognito, the buckets' presigned URLs). */
  readonly connectSrc: $util.Input<string>[];
  /** Hosted zone of the domain; defaults to the domain's last three labels. */
  readonly hostedZone?: string;
  /** Folder of the built web app (uploaded when present). */
  readonly webDist?: string;
  /** What `/config.json` tells the web app (site.ts). */
  readonly runtimeConfig: RuntimeConfigInputs;
}

/** Creates the certificate, WAF, headers policy, web bucket, distribution, DNS and Shield protection. */
export function createCdn(ctx: Ctx, args: CdnArgs): Cdn {
  const home = { provider: ctx.home };
  const edge = { provider: ctx.edge };
  const domain = ctx.stage.domain;
  const zone = aws.route53.getZoneOutput(
    { name: args.hostedZone ?? domain.split(".").slice(-3).join("."), privateZone: false },
    home,
  );

  const certificate = new aws.acm.Certificate(
    "Certificate",
    { domainName: domain, validationMethod: "DNS", keyAlgorithm: "EC_prime256v1" },
    edge,
  );
  const validationRecord = new aws.route53.Record(
    "CertificateValidationRecord",
    {
      zoneId: zone.zoneId,
      name: certificate.domainValidationOptions[0]!.resourceRecordName,
      type: certificate.domainValidationOptions[0]!.resourceRecordType,
      records: [certificate.domainValidationOptions[0]!.resourceRecordValue],
      ttl: 300,
      allowOverwrite: true,
    },
    home,
  );
  const validation = new aws.acm.CertificateValidation(
    "CertificateValidation",
    { certificateArn: certificate.arn, validationRecordFqdns: [validationRecord.fqdn] },
    edge,
  );

  const waf = createWebAcl(ctx);
  const headersPolicy = createResponseHeadersPolicy(ctx, args.connectSrc);

  const webBucket = new aws.s3.Bucket(
    "WebBucket",
    { bucketPrefix: ctx.bucketPrefix("web"), forceDestroy: true },
    home,
  );
  hardenCommon(ctx, "WebBucket", webBucket, { sse: { sseAlgorithm: "AES256" } });
  const oac = new aws.cloudfront.OriginAccessControl(
    "WebOriginAccess",
    {
      name: ctx.name("web"),
      originAccessControlOriginType: "s3",
      signingBehavior: "always",
      signingProtocol: "sigv4",
    },
    home,
  );
  const spaRouter = new aws.cloudfront.Function(
    "SpaRouter",
    {
      name: ctx.name("spa-router"),
      runtime: "cloudfront-js-2.0",
      comment: "Serve index.html for client-side routes of the web app",
      publish: true,
      code: [
        "function handler(event) {",
        "  var r = event.request;",
        "  if (r.uri.indexOf('.') === -1) r.uri = '/index.html';",
        "  return r;",
        "}",
      ].join("\n"),
    },
    home,
  );

  // The header is an input like any other, read from where the rotation keeps the keys: an update of
  // the distribution for any other reason writes the live key back, never a stale one (Pulumi's
  // ignoreChanges would write the first deploy's placeholder). Read late, right before the update.
  const liveKey = aws.apigateway
    .getApiKeysOutput({ includeValues: true }, { ...home, dependsOn: [validation, waf, oac] })
    .items.apply((items) =>
      liveApiKeyValue(
        (items ?? []).map((k) => ({ name: k.name, value: k.value, enabled: k.enabled, tags: k.tags })),
        { ...args.apiKeys, stageName: ctx.stageName },
      ),
    );
  // CloudFront FLE encrypts only POST bodies of exactly the form type and forwards any other body in
  // clear: the guard refuses those at the viewer, before FLE, the edge signer and the origin.
  const bodyGuard = new aws.cloudfront.Function(
    "ApiBodyGuard",
    {
      name: ctx.name("api-body-guard"),
      runtime: "cloudfront-js-2.0",
      comment: "Only POST bodies of exactly application/x-www-form-urlencoded reach FLE and the API",
      publish: true,
      code: bodyGuardFunctionCode(),
    },
    home,
  );
  const apiPattern = `${apiPrefix}*`;
  const distribution = new aws.cloudfront.Distribution(
    "Distribution",
    {
      comment: `Veil ${ctx.stageName}`,
      enabled: true,
      isIpv6Enabled: true,
      httpVersion: "http2and3",
      priceClass: "PriceClass_100",
      aliases: [domain],
      webAclId: waf.arn,
      defaultRootObject: "index.html",
      origins: [
        {
          originId: "api",
          domainName: args.apiHost,
          originPath: `/${args.apiStageName}`,
          customOriginConfig: {
            httpPort: 80,
            httpsPort: 443,
            originProtocolPolicy: "https-only",
            originSslProtocols: ["TLSv1.2"],
            originReadTimeout: 30,
            originKeepaliveTimeout: 5,
          },
          customHeaders: [{ name: headers.apiKey, value: $util.secret(liveKey) }],
        },
        {
          originId: "web",
          domainName: webBucket.bucketRegionalDomainName,
          originAccessControlId: oac.id,
          s3OriginConfig: { originAccessIdentity: "" },
        },
      ],
      defaultCacheBehavior: {
        targetOriginId: "web",
        viewerProtocolPolicy: "redirect-to-https",
        allowedMethods: ["GET", "HEAD", "OPTIONS"],
        cachedMethods: ["GET", "HEAD"],
        cachePolicyId: managedPolicies.cachingOptimized,
        responseHeadersPolicyId: headersPolicy.id,
        compress: true,
        functionAssociations: [{ eventType: "viewer-request", functionArn: spaRouter.arn }],
      },
      orderedCacheBehaviors: [
        {
          pathPattern: apiPattern,
          targetOriginId: "api",
          viewerProtocolPolicy: "https-only",
          allowedMethods: ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
          cachedMethods: ["GET", "HEAD"],
          cachePolicyId: managedPolicies.cachingDisabled,
          originRequestPolicyId: managedPolicies.allViewerExceptHostHeader,
          responseHeadersPolicyId: headersPolicy.id,
          fieldLevelEncryptionId: args.fleConfigId,
          compress: false,
          functionAssociations: [{ eventType: "viewer-request", functionArn: bodyGuard.arn }],
          lambdaFunctionAssociations: [
            { eventType: "origin-request", lambdaArn: args.edgeQualifiedArn, includeBody: true },
          ],
        },
      ],
      restrictions: { geoRestriction: { restrictionType: "none" } },
      viewerCertificate: {
        acmCertificateArn: validation.certificateArn,
        sslSupportMethod: "sni-only",
        minimumProtocolVersion: "TLSv1.2_2021",
      },
    },
    home,
  );

  new aws.s3.BucketPolicy(
    "WebBucketPolicy",
    {
      bucket: webBucket.id,
      policy: policyJson({
        Version: "2012-10-17",
        Statement: [
          denyInsecureTransport(webBucket.arn),
          {
            Sid: "CloudFrontReadsThroughOac",
            Effect: "Allow",
            Principal: { Service: "cloudfront.amazonaws.com" },
            Action: "s3:GetObject",
            Resource: $interpolate`${webBucket.arn}/*`,
            Condition: { StringEquals: { "AWS:SourceArn": distribution.arn } },
          },
        ],
      }),
    },
    home,
  );

  for (const type of ["A", "AAAA"] as const) {
    new aws.route53.Record(
      `Dns${type}`,
      {
        zoneId: zone.zoneId,
        name: domain,
        type,
        aliases: [
          { name: distribution.domainName, zoneId: distribution.hostedZoneId, evaluateTargetHealth: false },
        ],
      },
      home,
    );
  }

  if (ctx.stage.shieldAdvanced) {
    new aws.shield.Protection(
      "ShieldAdvanced",
      { name: ctx.name("cdn"), resourceArn: distribution.arn },
      edge,
    );
  }

  uploadWeb(ctx, webBucket, args.webDist ?? join(process.cwd(), "web", "dist"));
  writeRuntimeConfig(ctx, webBucket, args.runtimeConfig);
  return { distribution, webBucket, webAcl: waf, url: `https://${domain}` };
}

/** The response-headers policy, built from the single definition in @veil/core. */
function createResponseHeadersPolicy(ctx: Ctx, connectSrc: $util.Input<string>[]) {
  const set = $util.all(connectSrc).apply((origins) => securityHeaders({ connectSrc: origins }));
  const maxAge = set.apply((h) =>
    Number(/max-age=(\d+)/.exec(h["strict-transport-security"] ?? "")?.[1] ?? 0),
  );
  return new aws.cloudfront.ResponseHeadersPolicy(
    "SecurityHeaders",
    {
      name: ctx.name("security-headers"),
      comment: "HSTS, CSP, no framing, nosniff, no referrer",
      securityHeadersConfig: {
        contentSecurityPolicy: {
          override: true,
          contentSecurityPolicy: set.apply((h) => h["content-security-policy"]!),
        },
        strictTransportSecurity: {
          override: true,
          accessControlMaxAgeSec: maxAge,
          includeSubdomains: true,
          preload: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { override: true, frameOption: "DENY" },
        referrerPolicy: { override: true, referrerPolicy: "no-referrer" },
      },
      customHeadersConfig: {
        items: [
          { header: "Permissions-Policy", override: true, value: set.apply((h) => h["permissions-policy"]!) },
          {
            header: "Cross-Origin-Opener-Policy",
            override: true,
            value: set.apply((h) => h["cross-origin-opener-policy"]!),
          },
        ],
      },
    },
    { provider: ctx.home },
  );
}
