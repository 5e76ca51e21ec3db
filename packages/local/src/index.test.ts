import { describe, expect, it } from "vitest";
import * as local from "./index.ts";

describe("@veil/local entry point", () => {
  it("exports the seams outside tools call", () => {
    for (const name of [
      "startLocalStack",
      "verifySigV4",
      "startGateway",
      "startLocalKms",
      "startLocalCognito",
      "startLocalCloudFront",
      "createApiClient",
      "openAnswer",
    ]) {
      expect(typeof (local as Record<string, unknown>)[name], name).toBe("function");
    }
  });
});
