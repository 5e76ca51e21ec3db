import { describe, expect, it } from "vitest";
import { bodyGuard, bodyGuardFunctionCode, fleContentType } from "./body-guard.ts";

type Result = { statusCode?: number; body?: { data: string }; method?: string };

/** Runs the CloudFront Function source as CloudFront would: `handler(event)`. */
function run(method: string, contentType?: string): Result {
  const handler = new Function(`${bodyGuardFunctionCode()}\nreturn handler;`)() as (e: unknown) => Result;
  const headers = contentType === undefined ? {} : { "content-type": { value: contentType } };
  return handler({
    version: "1.0",
    context: { eventType: "viewer-request", requestId: "req-1" },
    request: { method, uri: "/api/records", headers, querystring: {} },
  });
}

describe("the FLE body guard", () => {
  const cases: [string, string | undefined, number | undefined][] = [
    ["POST", fleContentType, undefined],
    ["POST", `${fleContentType}; charset=UTF-8`, 415],
    ["POST", `${fleContentType};charset=UTF-8`, 415],
    ["POST", "APPLICATION/X-WWW-FORM-URLENCODED", 415],
    ["POST", "application/json", 415],
    ["POST", "multipart/form-data; boundary=x", 415],
    ["POST", "text/plain", 415],
    ["POST", undefined, 415],
    ["PUT", fleContentType, 405],
    ["PATCH", "application/json", 405],
    ["GET", undefined, undefined],
    ["DELETE", undefined, undefined],
    ["OPTIONS", undefined, undefined],
  ];

  it("lets through only bodies CloudFront FLE encrypts: POST of exactly the form type", () => {
    for (const [method, type, status] of cases)
      expect(bodyGuard(method, type), `${method} ${type}`).toBe(status);
  });

  it("decides the same as CloudFront Function source, with a JSON error body", () => {
    for (const [method, type, status] of cases) {
      const r = run(method, type);
      expect(r.statusCode, `${method} ${type}`).toBe(status);
      if (status === undefined) expect(r.method).toBe(method);
      else expect(JSON.parse(r.body!.data)).toMatchObject({ error: expect.any(String), requestId: "req-1" });
    }
  });
});
