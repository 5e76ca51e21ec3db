import { describe, expect, it } from "vitest";
import { bodyGuard, bodyGuardFunctionCode, fleContentType, type GuardedHeaders } from "./body-guard.ts";
import { proofOfPossession } from "./sealing.ts";

type Result = { statusCode?: number; body?: { data: string }; method?: string };

/** Runs the CloudFront Function source as CloudFront would: `handler(event)`. */
function run(method: string, guarded: GuardedHeaders): Result {
  const handler = new Function(`${bodyGuardFunctionCode()}\nreturn handler;`)() as (e: unknown) => Result;
  // CloudFront Functions' shape: the first value, and every value in `multiValue` when repeated.
  const header = (values: readonly string[] | undefined) =>
    values === undefined || values.length === 0
      ? undefined
      : {
          value: values[0],
          ...(values.length > 1 ? { multiValue: values.map((value) => ({ value })) } : {}),
        };
  const headers = Object.fromEntries(
    Object.entries({
      "content-type": header(guarded.contentType),
      "content-encoding": header(guarded.contentEncoding),
    }).filter(([, v]) => v !== undefined),
  );
  return handler({
    version: "1.0",
    context: { eventType: "viewer-request", requestId: "req-1" },
    request: { method, uri: "/api/records", headers, querystring: {} },
  });
}

describe("the FLE body guard", () => {
  const type = (...contentType: string[]): GuardedHeaders => ({ contentType });
  const cases: [string, GuardedHeaders, number | undefined][] = [
    ["POST", type(fleContentType), undefined],
    ["POST", type(`${fleContentType}; charset=UTF-8`), 415],
    ["POST", type(`${fleContentType};charset=UTF-8`), 415],
    ["POST", type("APPLICATION/X-WWW-FORM-URLENCODED"), 415],
    ["POST", type("application/json"), 415],
    ["POST", type("multipart/form-data; boundary=x"), 415],
    ["POST", type("text/plain"), 415],
    ["POST", {}, 415],
    // A second content type could make FLE and the origin disagree on what the body is.
    ["POST", type(fleContentType, "application/json"), 415],
    ["POST", type("application/json", fleContentType), 415],
    // FLE cannot parse a compressed form: it would pass through in clear.
    ["POST", { contentType: [fleContentType], contentEncoding: ["gzip"] }, 415],
    ["PUT", type(fleContentType), 405],
    ["PATCH", type("application/json"), 405],
    ["GET", {}, undefined],
    ["DELETE", {}, undefined],
    ["OPTIONS", {}, undefined],
  ];

  it("lets through only bodies CloudFront FLE encrypts: POST of exactly the form type", () => {
    for (const [method, type, status] of cases)
      expect(bodyGuard(method, type), `${method} ${JSON.stringify(type)}`).toBe(status);
  });

  it("decides the same as CloudFront Function source, with a JSON error body", () => {
    for (const [method, type, status] of cases) {
      const r = run(method, type);
      expect(r.statusCode, `${method} ${JSON.stringify(type)}`).toBe(status);
      if (status === undefined) expect(r.method).toBe(method);
      else expect(JSON.parse(r.body!.data)).toMatchObject({ error: expect.any(String), requestId: "req-1" });
    }
  });
});

describe("the viewer host header", () => {
  const handler = new Function(`${bodyGuardFunctionCode()}\nreturn handler;`)() as (e: unknown) => {
    headers: Record<string, { value: string; multiValue?: unknown }>;
  };
  const request = (method: string, headers: Record<string, unknown>) =>
    handler({
      version: "1.0",
      context: { eventType: "viewer-request", requestId: "req-1" },
      request: { method, uri: "/api/records", headers, querystring: {} },
    });

  it("is set from the viewer's Host on every request passed on, replacing whatever the viewer sent", () => {
    const forged = {
      value: "evil.example",
      multiValue: [{ value: "evil.example" }, { value: "app.veil.example" }],
    };
    for (const method of ["GET", "DELETE", "POST"]) {
      const r = request(method, {
        host: { value: "app.veil.example" },
        [proofOfPossession.viewerHostHeader]: forged,
        "content-type": { value: fleContentType },
      });
      expect(r.headers[proofOfPossession.viewerHostHeader], method).toEqual({ value: "app.veil.example" });
    }
    const noHost = request("GET", { [proofOfPossession.viewerHostHeader]: { value: "evil.example" } });
    expect(noHost.headers[proofOfPossession.viewerHostHeader]).toBeUndefined();
  });
});
