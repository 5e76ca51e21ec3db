import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error plain ESM script without types
import { importsOf, violations } from "./check-boundaries.mjs";

describe("module boundaries", () => {
  it("the repository keeps every arrow of the design", () => {
    expect(violations(join(import.meta.dirname, ".."))).toEqual([]);
  });

  it("catches a handler importing the local platform and an SDK in the edge", () => {
    const root = mkdtempSync(join(tmpdir(), "veil-bounds-"));
    mkdirSync(join(root, "functions"), { recursive: true });
    mkdirSync(join(root, "edge/src"), { recursive: true });
    writeFileSync(join(root, "functions/h.ts"), 'import { x } from "@veil/local";\n');
    writeFileSync(join(root, "edge/src/s.ts"), 'import { KMS } from "@aws-sdk/client-kms";\n');
    try {
      expect(violations(root)).toHaveLength(2);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("lets crypto use @veil/aws and edge its signer only, and keeps the SDK clients off the handler path", () => {
    const root = mkdtempSync(join(tmpdir(), "veil-bounds-"));
    const files: Record<string, string> = {
      "packages/crypto/src/ok.ts": 'import { createKmsClient } from "@veil/aws";\n',
      "packages/crypto/src/kms.ts": 'import { KMSClient } from "@aws-sdk/client-kms";\n',
      "packages/crypto/src/db.ts": 'import { createPool } from "@veil/db";\n',
      "packages/db/src/token.ts": 'import { Signer } from "@aws-sdk/rds-signer";\n',
      "functions/src/shared/key.ts":
        'import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";\n',
      "functions/src/rotate.ts": 'import { APIGatewayClient } from "@aws-sdk/client-api-gateway";\n',
      "packages/aws/src/kms.ts": 'import { SignatureV4 } from "@smithy/signature-v4";\n',
      "packages/aws/src/core.ts": 'import { headers } from "@veil/core";\n',
      "edge/src/sign.ts": 'import { authorizationHeader } from "@veil/aws/sigv4";\n',
      "edge/src/kms.ts": 'import { createKmsClient } from "@veil/aws";\n',
    };
    for (const [path, source] of Object.entries(files)) {
      mkdirSync(join(root, path, ".."), { recursive: true });
      writeFileSync(join(root, path), source);
    }
    try {
      expect(
        violations(root)
          .map((v: string) => v.split(":")[0])
          .sort(),
      ).toEqual([
        "edge/src/kms.ts",
        "functions/src/shared/key.ts",
        "packages/aws/src/core.ts",
        "packages/aws/src/kms.ts",
        "packages/crypto/src/db.ts",
        "packages/crypto/src/kms.ts",
        "packages/db/src/token.ts",
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("lets infra read the function manifest only, and the local stack run bundles, not handler sources", () => {
    const root = mkdtempSync(join(tmpdir(), "veil-bounds-"));
    const files: Record<string, string> = {
      "functions/package.json": JSON.stringify({
        name: "@veil/functions",
        exports: { "./manifest": "./manifest.ts" },
      }),
      "infra/functions.ts": 'import { manifest } from "../functions/manifest.ts";\n',
      "infra/test/stack.ts": 'import { manifest } from "../../functions/manifest.ts";\n',
      "infra/api.ts": 'import { routes } from "../functions/src/records/handler.ts";\n',
      "packages/local/src/stack/fns.ts":
        'import { manifest } from "@veil/functions/manifest";\nimport { ensureBundles } from "@veil/functions/build";\n',
      "packages/local/src/stack/start.ts": 'import { handler } from "@veil/functions/records";\n',
      "packages/local/src/s3/images.ts":
        'const m = await import("../../../../functions/src/images-api/handler.ts");\n',
    };
    for (const [path, source] of Object.entries(files)) {
      mkdirSync(join(root, path, ".."), { recursive: true });
      writeFileSync(join(root, path), source);
    }
    try {
      expect(
        violations(root)
          .map((v: string) => v.split(":")[0])
          .sort(),
      ).toEqual(["infra/api.ts", "packages/local/src/s3/images.ts", "packages/local/src/stack/start.ts"]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("reads static, dynamic and type-only imports", () => {
    expect(
      importsOf('import type { A } from "a";\nconst b = await import("b");\nexport * from "c";'),
    ).toEqual(["a", "b", "c"]);
  });

  it("reads tests, relative imports into other packages, web, bench and local, and fails on each kind", () => {
    const root = mkdtempSync(join(tmpdir(), "veil-bounds-"));
    const files: Record<string, string> = {
      "functions/package.json": JSON.stringify({
        name: "@veil/functions",
        exports: { "./manifest": "./manifest.ts", "./test-switches": "./src/records/test-switches.ts" },
      }),
      "packages/crypto/package.json": JSON.stringify({
        name: "@veil/crypto",
        exports: { ".": "./src/index.ts" },
      }),
      // A test file is checked like any other.
      "functions/src/records/routes.test.ts": 'import { startLocalStack } from "@veil/local";\n',
      // A relative path that climbs into another package is an import of that package.
      "packages/core/src/fields.ts": 'import { encrypt } from "../../crypto/src/index.ts";\n',
      "infra/api.ts": 'import { x } from "../functions/src/shared/http.ts";\n',
      // The browser app, the benchmarks and the local platform have rules of their own.
      "web/src/pages/Record.tsx": 'import { encrypt } from "@veil/crypto";\n',
      "web/src/api/upload.ts": 'import { encryptUpload } from "@veil/storage/upload-web";\n',
      "bench/switches.ts": 'import { logProbeEnv } from "../functions/src/records/test-switches.ts";\n',
      "functions/src/shared/timing.ts": 'import { median } from "../../../bench/timing.ts";\n',
      "packages/local/src/stack/start.ts": 'import { testStackSettings } from "../proof/controls.ts";\n',
      "packages/local/src/stack/stage.ts": 'import { stageConfig } from "../../../../infra/stage.ts";\n',
      "packages/local/src/stack/cdn.ts": 'import { createCdn } from "../../../../infra/cdn.ts";\n',
      "packages/local/src/cli/scan.ts": 'import { scan } from "../proof/scanner.ts";\n',
    };
    for (const [path, source] of Object.entries(files)) {
      mkdirSync(join(root, path, ".."), { recursive: true });
      writeFileSync(join(root, path), source);
    }
    try {
      const found = violations(root);
      expect(found.map((v: string) => v.split(":")[0]).sort()).toEqual([
        "bench/switches.ts",
        "functions/src/records/routes.test.ts",
        "functions/src/shared/timing.ts",
        "infra/api.ts",
        "packages/core/src/fields.ts",
        "packages/local/src/stack/cdn.ts",
        "packages/local/src/stack/start.ts",
        "web/src/pages/Record.tsx",
      ]);
      expect(found.join("\n")).toContain("../../crypto/src/index.ts (@veil/crypto)");
      const run = spawnSync(process.execPath, [join(import.meta.dirname, "check-boundaries.mjs"), root], {
        encoding: "utf8",
      });
      expect(run.status).toBe(1);
      expect(run.stderr.trim().split("\n")).toHaveLength(found.length);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
