import type { APIGatewayProxyEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { intParam, singleParam } from "./query.ts";

const event = (values: Record<string, string[]>) =>
  ({
    queryStringParameters: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.at(-1)])),
    multiValueQueryStringParameters: values,
  }) as unknown as APIGatewayProxyEvent;
const invalid = () => new Error("invalid");

describe("strict query parameters", () => {
  it("takes one value, refuses a repeated one", () => {
    expect(singleParam(event({ cursor: ["c"] }), "cursor", invalid)).toBe("c");
    expect(singleParam(event({}), "cursor", invalid)).toBeUndefined();
    expect(() => singleParam(event({ cursor: ["a", "b"] }), "cursor", invalid)).toThrow("invalid");
  });

  it("takes an integer in plain digits within its range, nothing else", () => {
    const range = { min: 1, max: 50 };
    expect(intParam(event({ limit: ["50"] }), "limit", range, invalid)).toBe(50);
    expect(intParam(event({ limit: ["007"] }), "limit", range, invalid)).toBe(7);
    expect(intParam(event({}), "limit", range, invalid)).toBeUndefined();
    for (const bad of ["50abc", "0", "51", "", " 5", "+5", "5.0", "1e1", "0x10", "-1", "9".repeat(20)]) {
      expect(() => intParam(event({ limit: [bad] }), "limit", range, invalid), bad).toThrow("invalid");
    }
    expect(() => intParam(event({ limit: ["5", "5"] }), "limit", range, invalid)).toThrow("invalid");
  });
});
