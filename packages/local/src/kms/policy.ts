import { KmsError } from "./errors.ts";

/**
 * A small evaluator of IAM-shaped key policies, enough to enforce the same key policy document locally
 * that production attaches to its KMS key:
 * - default deny; an explicit `Deny` wins over any `Allow`;
 * - `Principal` `"*"`, `{ AWS: arn | arn[] }` (users, roles — a role also matches its assumed-role
 *   sessions), or the account (`123456789012` / `arn:aws:iam::123456789012:root`), which, as in AWS,
 *   delegates to the caller's identity (IAM) policy; `NotPrincipal` in `Deny` statements;
 * - `Action` / `NotAction` with `*` and `?` wildcards (`kms:GenerateDataKey*`), case-insensitive;
 * - `Resource` / `NotResource` (`"*"` means the key itself in a key policy);
 * - `Condition` with the String, Bool and Null operators, `...IfExists`, and `ForAllValues:` /
 *   `ForAnyValue:` qualifiers, over the keys the request supplies (`kms:EncryptionContext:<k>`,
 *   `kms:EncryptionContextKeys`, `kms:CallerAccount`, `aws:PrincipalArn`, ...). A key the request does not
 *   supply is absent, as in AWS. An operator it does not know fails closed: the `Allow` does not apply,
 *   the `Deny` does.
 */

type OneOrMany<T> = T | T[];

/** One statement of a policy document. */
export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: "*" | PrincipalBlock;
  NotPrincipal?: PrincipalBlock;
  Action?: OneOrMany<string>;
  NotAction?: OneOrMany<string>;
  Resource?: OneOrMany<string>;
  NotResource?: OneOrMany<string>;
  Condition?: Record<string, Record<string, OneOrMany<string | boolean>>>;
}

/**
 * Principals by kind. Only `AWS` principals ever call the local KMS; statements naming only `Service`,
 * `Federated` or `CanonicalUser` principals are accepted (production policies have them) and never match.
 */
export interface PrincipalBlock {
  AWS?: OneOrMany<string>;
  Service?: OneOrMany<string>;
  Federated?: OneOrMany<string>;
  CanonicalUser?: OneOrMany<string>;
}

/** An IAM policy document as KMS stores it for a key. */
export interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: OneOrMany<PolicyStatement>;
}

/** What one call asks for. */
export interface PolicyRequest {
  /** ARN of the caller (user, role, or assumed-role session). */
  readonly principalArn: string;
  /** `kms:<Operation>`. */
  readonly action: string;
  /** ARN of the key. */
  readonly resource: string;
  /** Condition keys the request supplies; names are matched case-insensitively. */
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
  /** Whether the caller's identity (IAM) policy allows the action; used when a statement names the account. */
  readonly identityAllows: (action: string) => boolean;
}

export type PolicyDecision = "allow" | "explicitDeny" | "implicitDeny";

const MAX_POLICY_BYTES = 32 * 1024;

const many = <T>(v: OneOrMany<T> | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

const malformed = (why: string) => new KmsError("MalformedPolicyDocumentException", `The key policy ${why}.`);

/** Parses and checks the shape of a key policy; throws `MalformedPolicyDocumentException`. */
export function parsePolicy(text: string): PolicyDocument {
  if (Buffer.byteLength(text) > MAX_POLICY_BYTES) throw malformed("is larger than 32 KB");
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformed("is not valid JSON");
  }
  if (typeof doc !== "object" || doc === null || !("Statement" in doc)) throw malformed("has no Statement");
  const statements = many((doc as PolicyDocument).Statement);
  if (statements.length === 0) throw malformed("has no Statement");
  for (const s of statements) {
    if (typeof s !== "object" || s === null) throw malformed("has a statement that is not an object");
    if (s.Effect !== "Allow" && s.Effect !== "Deny")
      throw malformed("has a statement without Effect Allow or Deny");
    if ((s.Principal === undefined) === (s.NotPrincipal === undefined)) {
      throw malformed("has a statement without exactly one of Principal and NotPrincipal");
    }
    if (s.NotPrincipal !== undefined && s.Effect !== "Deny") throw malformed("uses NotPrincipal with Allow");
    if ((s.Action === undefined) === (s.NotAction === undefined)) {
      throw malformed("has a statement without exactly one of Action and NotAction");
    }
    for (const block of [s.Principal, s.NotPrincipal]) {
      if (block === undefined || block === "*") continue;
      const names = typeof block === "object" && block !== null ? Object.entries(block) : [];
      const known = ["AWS", "Service", "Federated", "CanonicalUser"];
      if (names.length === 0 || names.some(([k, v]) => !known.includes(k) || many(v).length === 0)) {
        throw malformed("has a statement whose principal is not valid");
      }
    }
  }
  return doc as PolicyDocument;
}

/** Evaluates a parsed policy for one request. */
export function evaluatePolicy(policy: PolicyDocument, request: PolicyRequest): PolicyDecision {
  let allowed = false;
  for (const s of many(policy.Statement)) {
    if (!actionMatches(s, request.action) || !resourceMatches(s, request.resource)) continue;
    const deny = s.Effect === "Deny";
    if (!principalMatches(s, request, deny)) continue;
    const conditions = conditionsHold(s.Condition, request.context ?? {});
    if (deny && conditions !== false) return "explicitDeny";
    if (!deny && conditions === true) allowed = true;
  }
  return allowed ? "allow" : "implicitDeny";
}

function wildcard(pattern: string, value: string, ignoreCase: boolean): boolean {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`, ignoreCase ? "is" : "s").test(value);
}

function actionMatches(s: PolicyStatement, action: string): boolean {
  if (s.Action !== undefined) return many(s.Action).some((a) => wildcard(a, action, true));
  return !many(s.NotAction).some((a) => wildcard(a, action, true));
}

function resourceMatches(s: PolicyStatement, resource: string): boolean {
  if (s.Resource === undefined && s.NotResource === undefined) return true;
  if (s.Resource !== undefined) return many(s.Resource).some((r) => wildcard(r, resource, false));
  return !many(s.NotResource).some((r) => wildcard(r, resource, false));
}

const accountOf = (arn: string): string | undefined => arn.split(":")[4];

/** An ARN naming the principal itself, or, for an assumed-role session, the role it came from. */
function principalNames(arn: string): string[] {
  const session = /^arn:(aws[\w-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(arn);
  if (!session) return [arn];
  return [arn, `arn:${session[1]}:iam::${session[2]}:role/${session[3]}`];
}

type PrincipalMatch = "direct" | "account" | "none";

function matchOne(entry: string, principalArn: string): PrincipalMatch {
  if (entry === "*") return "direct";
  const account = accountOf(principalArn);
  if (entry === account || entry === `arn:aws:iam::${account}:root`) return "account";
  if (principalNames(principalArn).includes(entry)) return "direct";
  return "none";
}

function principalMatches(s: PolicyStatement, request: PolicyRequest, deny: boolean): boolean {
  if (s.NotPrincipal !== undefined) {
    return many(s.NotPrincipal.AWS).every((e) => e !== "*" && matchOne(e, request.principalArn) === "none");
  }
  const entries = s.Principal === "*" ? ["*"] : many(s.Principal?.AWS);
  return entries.some((e) => {
    const m = matchOne(e, request.principalArn);
    if (m === "direct") return true;
    // Naming the account hands the decision to the caller's IAM policy (for an Allow); a Deny on the
    // account binds every principal in it.
    if (m === "account") return deny || request.identityAllows(request.action);
    return false;
  });
}

/** True when all conditions hold, false when one does not, undefined when one cannot be evaluated. */
function conditionsHold(
  condition: PolicyStatement["Condition"],
  context: Readonly<Record<string, string | readonly string[]>>,
): boolean | undefined {
  if (condition === undefined) return true;
  const lowered = new Map(
    Object.entries(context).map(([k, v]) => [k.toLowerCase(), many(v as OneOrMany<string>)]),
  );
  for (const [operator, block] of Object.entries(condition)) {
    for (const [key, expected] of Object.entries(block)) {
      const result = testCondition(
        operator,
        lowered.get(key.toLowerCase()),
        many(expected).map((v) => String(v)),
      );
      if (result !== true) return result;
    }
  }
  return true;
}

type Compare = (actual: string, expected: string) => boolean;

const COMPARATORS: Record<string, { compare: Compare; negated: boolean }> = {
  stringequals: { compare: (a, e) => a === e, negated: false },
  stringnotequals: { compare: (a, e) => a === e, negated: true },
  stringequalsignorecase: { compare: (a, e) => a.toLowerCase() === e.toLowerCase(), negated: false },
  stringnotequalsignorecase: { compare: (a, e) => a.toLowerCase() === e.toLowerCase(), negated: true },
  stringlike: { compare: (a, e) => wildcard(e, a, false), negated: false },
  stringnotlike: { compare: (a, e) => wildcard(e, a, false), negated: true },
  arnequals: { compare: (a, e) => wildcard(e, a, false), negated: false },
  arnlike: { compare: (a, e) => wildcard(e, a, false), negated: false },
  arnnotequals: { compare: (a, e) => wildcard(e, a, false), negated: true },
  arnnotlike: { compare: (a, e) => wildcard(e, a, false), negated: true },
  bool: { compare: (a, e) => a.toLowerCase() === e.toLowerCase(), negated: false },
};

function testCondition(
  operator: string,
  actual: string[] | undefined,
  expected: string[],
): boolean | undefined {
  let op = operator.toLowerCase();
  let qualifier: "all" | "any" | undefined;
  if (op.startsWith("forallvalues:")) [qualifier, op] = ["all", op.slice("forallvalues:".length)];
  else if (op.startsWith("foranyvalue:")) [qualifier, op] = ["any", op.slice("foranyvalue:".length)];
  if (op === "null") {
    const wantsAbsent = expected.some((e) => e.toLowerCase() === "true");
    return wantsAbsent === (actual === undefined || actual.length === 0);
  }
  const ifExists = op.endsWith("ifexists");
  if (ifExists) op = op.slice(0, -"ifexists".length);
  const comparator = COMPARATORS[op];
  if (!comparator) return undefined;
  const matchesAny = (a: string) => expected.some((e) => comparator.compare(a, e));
  if (actual === undefined || actual.length === 0) {
    if (ifExists || qualifier === "all") return true;
    return comparator.negated && qualifier === undefined;
  }
  if (qualifier === "all") return actual.every((a) => matchesAny(a) !== comparator.negated);
  if (qualifier === "any") return actual.some((a) => matchesAny(a) !== comparator.negated);
  const hit = actual.some(matchesAny);
  return comparator.negated ? !hit : hit;
}
