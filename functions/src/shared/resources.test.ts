import { describe, expect, it } from "vitest";
import { linkNames } from "../../manifest.ts";
import { linked } from "./resources.ts";

// What SST (and the local stack) hand a function: one variable per linked resource, read on first use.
process.env.SST_RESOURCE_App = JSON.stringify({ name: "veil", stage: "test" });
process.env.SST_RESOURCE_ImagesBucket = JSON.stringify({ name: "veil-test-images" });

describe("linked", () => {
  it("reads a linked resource", () => {
    expect(linked("App")).toEqual({ name: "veil", stage: "test" });
    expect(linked("ImagesBucket")).toEqual({ name: "veil-test-images" });
  });

  it("names a resource that is not linked to this function, for every link name of the manifest", () => {
    for (const name of linkNames.filter((n) => n !== "ImagesBucket"))
      expect(() => linked(name)).toThrow(`resource ${name} is not linked to this function`);
  });

  it("accepts only the manifest's link names", () => {
    // @ts-expect-error: not a link name of functions/manifest.ts
    expect(() => linked("Nope")).toThrow("resource Nope is not linked to this function");
  });
});
