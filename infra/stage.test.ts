import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { VisibleError } from "./errors.ts";
import { edgeRegion, homeRegion, isSharedStage, stageConfig } from "./stage.ts";

describe("stage config", () => {
  it("keeps data in eu-central-2 and uses us-east-1 only for the edge", () => {
    expect(homeRegion).toBe("eu-central-2");
    expect(edgeRegion).toBe("us-east-1");
  });

  it("retains, protects, requires MFA and buys Shield Advanced in prod only", () => {
    for (const name of ["dev", "sit"]) {
      const s = stageConfig(name);
      expect([s.removal, s.protect, s.mfa, s.shieldAdvanced, s.threatProtection]).toEqual([
        "remove",
        false,
        "OPTIONAL",
        false,
        false,
      ]);
      expect(s.database.deletionProtection).toBe(false);
    }
    const prod = stageConfig("prod");
    expect([prod.removal, prod.protect, prod.mfa, prod.shieldAdvanced, prod.threatProtection]).toEqual([
      "retain",
      true,
      "ON",
      true,
      true,
    ]);
    expect(prod.database.deletionProtection).toBe(true);
    expect(prod.database.backupRetentionDays).toBe(35);
  });

  it("keeps logs and backups longer the closer a stage is to production", () => {
    const [dev, sit, prod] = ["dev", "sit", "prod"].map((s) => stageConfig(s));
    expect(dev!.logs.retentionDays).toBeLessThan(sit!.logs.retentionDays);
    expect(sit!.logs.retentionDays).toBeLessThan(prod!.logs.retentionDays);
    expect(dev!.database.backupRetentionDays).toBeLessThanOrEqual(sit!.database.backupRetentionDays);
    expect(sit!.database.backupRetentionDays).toBeLessThan(prod!.database.backupRetentionDays);
    for (const s of [dev!, sit!, prod!]) {
      expect([
        1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
        3653,
      ]).toContain(s.logs.retentionDays);
      expect(s.waf.ratePerIp5Min).toBeGreaterThanOrEqual(100); // WAF's minimum for rate-based rules
    }
  });

  it("gives a declared personal stage the dev settings under its own domain", () => {
    const alice = stageConfig("alice", { VEIL_PERSONAL_STAGE: "alice" });
    expect(alice.protect).toBe(false);
    expect(alice.domain).toBe("alice.dev.veil.example.com");
    expect(isSharedStage("alice")).toBe(false);
    expect(stageConfig("dev", { VEIL_DOMAIN: "veil.test.example" }).domain).toBe("veil.test.example");
  });

  it("refuses an unknown stage with a clear error instead of the dev settings", () => {
    for (const typo of ["prdo", "Prod", "staging", "alice"]) {
      expect(() => stageConfig(typo), typo).toThrow(VisibleError);
      expect(() => stageConfig(typo), typo).toThrow(/Unknown stage .*VEIL_PERSONAL_STAGE=/);
    }
    // Declaring another name does not make this one known.
    expect(() => stageConfig("prdo", { VEIL_PERSONAL_STAGE: "alice" })).toThrow(VisibleError);
    expect(stageConfig("governance").name).toBe("dev");
  });

  it("refuses personal stage names that would break AWS name limits", () => {
    const long = "a".repeat(33);
    for (const bad of [long, "Alice", "1alice", "al_ice"])
      expect(() => stageConfig(bad, { VEIL_PERSONAL_STAGE: bad }), bad).toThrow(/not a valid name/);
    expect(stageConfig("a".repeat(32), { VEIL_PERSONAL_STAGE: "a".repeat(32) }).protect).toBe(false);
  });

  it("accepts the stage prepare:sst installs the platform with (sst install evaluates the app)", () => {
    const script = readFileSync(join(import.meta.dirname, "scripts", "prepare-sst.mjs"), "utf8");
    const stage = /"--stage", "([^"]+)"/.exec(script)?.[1] ?? "";
    const declared = /VEIL_PERSONAL_STAGE: "([^"]+)"/.exec(script)?.[1];
    expect(stage).not.toBe("");
    expect(() => stageConfig(stage, { VEIL_PERSONAL_STAGE: declared })).not.toThrow();
  });
});
