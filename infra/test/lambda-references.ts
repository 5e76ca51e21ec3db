/**
 * Which resources name a Lambda function — by its name or its ARN, anywhere in their inputs — without
 * a deploy ordering them after it. A bare string names a function without depending on it: Pulumi then
 * creates the permission, invoke config, notification, integration or invocation as soon as it likes,
 * possibly before the function exists (or while its code is still updating).
 */
import type { Recorded, Stack } from "./harness.ts";

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Every string of an input tree with the property name it sits under. */
function strings(value: unknown, key = "", out: [string, string][] = []): [string, string][] {
  if (typeof value === "string") out.push([key, value]);
  else if (Array.isArray(value)) for (const v of value) strings(v, key, out);
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) strings(v, k, out);
  return out;
}

/**
 * Whether an input of `r` names the function `name`: its ARN (qualified, in a URI or a policy) anywhere,
 * or its bare name in a field meant for a function (`function`, `functionName`, a `FunctionName`
 * dimension, a Config rule's `complianceResourceId`). Other fields may hold the same string for
 * something else (the role, a schedule's name).
 */
export function namesFunction(r: Recorded, name: string): boolean {
  const arn = new RegExp(`:function:${escapeRegExp(name)}(?![\\w-])`);
  return strings(r.inputs).some(
    ([key, s]) =>
      arn.test(s) || (/function|complianceResourceId/i.test(key) && (s === name || s.includes(`"${name}"`))),
  );
}

/** `type::name → function` for every resource naming a function it is not ordered after. */
export function unorderedLambdaReferences(s: Stack): string[] {
  const functions = s.ofType("aws:lambda/function:Function").filter((f) => !f.read);
  const found: string[] = [];
  for (const fn of functions) {
    const name = String(fn.inputs.name);
    for (const r of s.resources) {
      if (r === fn || r.read || !namesFunction(r, name)) continue;
      // What the function itself needs (its role, log group) may share its name; it cannot wait for it.
      if (s.orderedAfter(fn, r)) continue;
      if (!s.orderedAfter(r, fn)) found.push(`${r.type}::${r.name} → ${name}`);
    }
  }
  return found.sort();
}

/** How many resources name a function at all (so a test sees that the check looked at something). */
export function lambdaReferenceCount(s: Stack): number {
  const functions = s.ofType("aws:lambda/function:Function").filter((f) => !f.read);
  return s.resources.filter(
    (r) =>
      !r.read &&
      functions.some((f) => f !== r && namesFunction(r, String(f.inputs.name)) && !s.orderedAfter(f, r)),
  ).length;
}
