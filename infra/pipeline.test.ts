import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const dir = join(import.meta.dirname, "..", ".github", "workflows");
const pipeline = readFileSync(join(dir, "pipeline.yml"), "utf8");
const deploy = readFileSync(join(dir, "deploy-stage.yml"), "utf8");

/** The text of one top-level job of pipeline.yml. */
function job(name: string): string {
  const m = pipeline.match(new RegExp(`\\n  ${name}:\\n((?:    .*\\n|\\s*\\n)*)`));
  if (!m?.[1]) throw new Error(`no job ${name}`);
  return m[1];
}

describe("CI/CD pipeline", () => {
  it("deploys dev from main only, then sit, then prod, each through the reusable stage job", () => {
    expect(job("dev")).toMatch(/github\.ref == 'refs\/heads\/main'/);
    expect(job("dev")).toMatch(/needs: test/);
    expect(job("sit")).toMatch(/needs: dev/);
    expect(job("prod")).toMatch(/needs: sit/);
    for (const stage of ["dev", "sit", "prod"]) {
      expect(job(stage)).toContain("uses: ./.github/workflows/deploy-stage.yml");
      expect(job(stage)).toContain(`stage: ${stage}`);
    }
  });

  it("runs each deploy in the stage's GitHub environment (manual approvals live there)", () => {
    expect(deploy).toMatch(/environment: \$\{\{ inputs\.stage \}\}/);
  });

  it("gets AWS credentials only through OIDC, never from stored keys", () => {
    expect(deploy).toMatch(/id-token: write/);
    expect(deploy).toMatch(/role-to-assume: \$\{\{ vars\.AWS_DEPLOY_ROLE_ARN \}\}/);
    for (const text of [pipeline, deploy]) {
      expect(text).not.toMatch(
        /aws-access-key-id|aws-secret-access-key|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY/i,
      );
    }
    expect(pipeline).toMatch(/^permissions:\n {2}contents: read$/m);
  });

  it("pins every third-party action to a full commit (a moved tag cannot change what runs)", () => {
    const uses = [pipeline, deploy].flatMap((text) =>
      [...text.matchAll(/uses: ([^\s#]+)/g)].map((m) => m[1] ?? ""),
    );
    const external = uses.filter((u) => !u.startsWith("./"));
    expect(external.length).toBeGreaterThan(0);
    for (const action of external) expect(action).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
  });

  it("runs CI on the Node version of .nvmrc", () => {
    const nvmrc = readFileSync(join(dir, "..", "..", ".nvmrc"), "utf8").trim();
    expect(nvmrc).toMatch(/^\d+$/);
    for (const text of [pipeline, deploy]) {
      expect(text).not.toMatch(/node-version: /);
      expect(text).toMatch(/node-version-file: \.nvmrc/);
    }
  });
});
