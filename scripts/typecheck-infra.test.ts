import { describe, expect, it } from "vitest";
// @ts-expect-error plain ESM script without types
import { ownDiagnostics } from "./typecheck-infra.mjs";

describe("infra type-check", () => {
  it("fails on diagnostics of our files, and leaves out only those of SST's platform sources", () => {
    const output = [
      ".sst/platform/src/components/aws/service.ts(12,3): error TS1484: 'X' is a type.",
      "infra/api.ts(4,7): error TS2322: Type 'string | undefined' is not assignable to type 'string'.",
      "  Type 'undefined' is not assignable to type 'string'.",
      "../.sst/platform/src/util/compare-semver.ts(1,1): error TS2532: Object is possibly 'undefined'.",
      "sst.config.ts(9,1): error TS4114: This member must have an 'override' modifier.",
      "error TS5083: Cannot read file 'infra/tsconfig.json'.",
    ].join("\n");
    expect(ownDiagnostics(output)).toEqual([
      "infra/api.ts(4,7): error TS2322: Type 'string | undefined' is not assignable to type 'string'.\n  Type 'undefined' is not assignable to type 'string'.",
      "sst.config.ts(9,1): error TS4114: This member must have an 'override' modifier.",
      "error TS5083: Cannot read file 'infra/tsconfig.json'.",
    ]);
    expect(ownDiagnostics("")).toEqual([]);
  });
});
