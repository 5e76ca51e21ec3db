/**
 * Strict query parameters, shared by the routes that page: one value per name (a repeated parameter is
 * ambiguous, hence refused) and integers in plain digits only (`parseInt` would take "50abc" as 50).
 * Each throws the route's own error, so that its answer stays generic.
 */
import type { APIGatewayProxyEvent } from "aws-lambda";

/**
 * One value of a query parameter, or undefined; `invalid()` is thrown when it is repeated.
 *
 * @example
 * const cursor = singleParam(event, "cursor", badRequest);
 */
export function singleParam(
  event: APIGatewayProxyEvent,
  name: string,
  invalid: () => Error,
): string | undefined {
  const all = event.multiValueQueryStringParameters?.[name];
  if (all && all.length > 1) throw invalid();
  return event.queryStringParameters?.[name] ?? undefined;
}

/**
 * An integer query parameter within `min..max`, written in digits only, or undefined when absent;
 * `invalid()` is thrown for anything else, or when it is repeated.
 *
 * @example
 * const limit = intParam(event, "limit", { min: 1, max: 100 }, badRequest) ?? 50;
 */
export function intParam(
  event: APIGatewayProxyEvent,
  name: string,
  range: { readonly min: number; readonly max: number },
  invalid: () => Error,
): number | undefined {
  const raw = singleParam(event, name, invalid);
  if (raw === undefined) return undefined;
  const value = /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= range.min && value <= range.max)) throw invalid();
  return value;
}
