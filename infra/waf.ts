/**
 * The WAF web ACL in front of CloudFront (us-east-1): AWS managed rule groups and a per-IP rate limit
 * from the stage config.
 */
import type { Ctx } from "./context.ts";

/** The AWS managed rule groups of the web ACL, in priority order. */
export const managedRuleGroups = [
  "AWSManagedRulesAmazonIpReputationList",
  "AWSManagedRulesCommonRuleSet",
  "AWSManagedRulesKnownBadInputsRuleSet",
  "AWSManagedRulesSQLiRuleSet",
] as const;

/** WAF web ACL for CloudFront (us-east-1): managed rule groups and a per-IP rate-based rule. */
export function createWebAcl(ctx: Ctx): aws.wafv2.WebAcl {
  const visibility = (metricName: string) => ({
    cloudwatchMetricsEnabled: true,
    metricName,
    sampledRequestsEnabled: false,
  });
  const rules = managedRuleGroups.map((name, priority) => ({
    name,
    priority,
    overrideAction: { none: {} },
    statement: {
      managedRuleGroupStatement: {
        vendorName: "AWS",
        name,
        // FLE ciphertext makes a record form larger than the common rule set's 8 KB body limit.
        ruleActionOverrides:
          name === "AWSManagedRulesCommonRuleSet"
            ? [{ name: "SizeRestrictions_BODY", actionToUse: { count: {} } }]
            : undefined,
      },
    },
    visibilityConfig: visibility(name),
  }));
  return new aws.wafv2.WebAcl(
    "WebAcl",
    {
      name: ctx.name("cdn"),
      scope: "CLOUDFRONT",
      defaultAction: { allow: {} },
      rules: [
        ...rules,
        {
          name: "RatePerIp",
          priority: rules.length,
          action: { block: {} },
          statement: {
            rateBasedStatement: {
              limit: ctx.stage.waf.ratePerIp5Min,
              aggregateKeyType: "IP",
              evaluationWindowSec: 300,
            },
          },
          visibilityConfig: visibility("RatePerIp"),
        },
      ],
      visibilityConfig: visibility(ctx.name("cdn")),
    },
    { provider: ctx.edge },
  );
}
