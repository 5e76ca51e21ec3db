/** IAM-side helpers: who the caller is, and whether it may invoke. */

/** `arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<METHOD>/<path without leading slash>`. */
export function executeApiArn(p: {
  region: string;
  accountId: string;
  apiId: string;
  stage: string;
  method: string;
  path: string;
}): string {
  return `arn:aws:execute-api:${p.region}:${p.accountId}:${p.apiId}/${p.stage}/${p.method}/${p.path.replace(/^\//, "")}`;
}

/** True when `arn` matches one of the patterns, where `*` stands for any run of characters. */
export function isAllowedArn(arn: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => {
    const re = new RegExp(`^${pattern.split("*").map(escapeRegExp).join(".*")}$`);
    return re.test(arn);
  });
}

/** The account id and caller name API Gateway shows in `requestContext.identity`. */
export function callerOf(arn: string): { accountId: string | null; caller: string } {
  const parts = arn.split(":");
  const resource = parts.slice(5).join(":");
  // assumed-role/Role/session → Role:session (AWS shows the role *id*; the name is what we know locally).
  const assumed = /^assumed-role\/([^/]+)\/(.+)$/.exec(resource);
  return {
    accountId: parts[4] || null,
    caller: assumed === null ? resource.replace(/^user\//, "") : `${assumed[1]}:${assumed[2]}`,
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
