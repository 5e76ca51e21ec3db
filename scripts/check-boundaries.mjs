#!/usr/bin/env node
// Enforces the arrows of the design: who may import whom. Run by `pnpm lint`; tested in boundaries.test.ts.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** Each rule: files under `dir` must not import a specifier matching `forbidden`. */
export const rules = [
  { dir: "packages/core", forbidden: /^@veil\//, why: "core imports no other internal package" },
  { dir: "packages/aws", forbidden: /^@veil\//, why: "aws imports no other internal package" },
  {
    dir: "packages/aws/src",
    forbidden: /^@aws-sdk\/|^@smithy\//,
    why: "@veil/aws replaces the AWS SDK clients; the SDK is only its tests' oracle",
  },
  { dir: "functions", forbidden: /^@veil\/local(\/|$)/, why: "handlers never depend on the local platform" },
  {
    dir: "edge",
    forbidden: /^@veil\/(?!(core|aws\/sigv4)$)/,
    why: "edge may import only @veil/core and the signer of @veil/aws",
  },
  {
    dir: "edge/src",
    forbidden: /^@aws-sdk\/|^@aws-crypto\/|^@smithy\//,
    why: "no AWS SDK in the edge bundle",
  },
  { dir: "packages/crypto", forbidden: /^@veil\/(?!(core|aws)$)/, why: "crypto imports only core and aws" },
  {
    dir: "packages/crypto",
    forbidden: /^@aws-sdk\//,
    why: "the handler path calls KMS through @veil/aws, not the AWS SDK",
  },
  {
    dir: "packages/db",
    forbidden: /^@aws-sdk\//,
    why: "RDS IAM tokens come from @veil/aws, not the AWS SDK",
  },
  {
    dir: "functions/src",
    forbidden: /^@aws-sdk\/(client-kms|client-secrets-manager|rds-signer)$/,
    why: "handlers reach KMS, Secrets Manager and RDS through @veil/aws, not the AWS SDK",
  },
  { dir: "packages/log", forbidden: /^@veil\/(?!core$)/, why: "log imports only core" },
  { dir: "packages/storage", forbidden: /^@veil\/(?!core$)/, why: "storage imports only core" },
  { dir: "infra", forbidden: /^@veil\/(?!core$)/, why: "infra imports only core" },
  {
    dir: "infra",
    forbidden: /^\.\.?\/(\.\.\/)*packages\/(?!local\/src\/client\/index\.ts$)/,
    why: "infra reaches into packages only for the smoke's API client (a dev tool, never deployed)",
  },
  {
    dir: "infra",
    forbidden: /^\.\.?\/(\.\.\/)*functions\/(?!manifest\.ts$)/,
    why: "infra reads the function manifest, never handler code",
  },
  {
    dir: "packages/local",
    forbidden: /^@veil\/functions(?!\/(manifest|build|test-switches)$)|(^|\/)functions\/src\//,
    why: "the local stack runs the functions' bundles, never their sources",
  },
];

const importRe =
  /(?:^|[^\w.])(?:import|export)\s[^"'`]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|require\(\s*["']([^"']+)["']\s*\)/g;

/** Returns the import specifiers of one source text. */
export function importsOf(source) {
  const out = [];
  for (const m of source.matchAll(importRe)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

function* sourceFiles(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    if (name === "node_modules" || name === "dist" || name.startsWith(".")) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (/\.(m?[jt]sx?)$/.test(name) && !/\.test\.tsx?$/.test(name)) yield path;
  }
}

/** Lists every violation of `rules` under `root`. */
export function violations(root) {
  const found = [];
  for (const rule of rules) {
    for (const file of sourceFiles(join(root, rule.dir))) {
      for (const spec of importsOf(readFileSync(file, "utf8"))) {
        if (rule.forbidden.test(spec)) found.push(`${relative(root, file)}: imports ${spec} (${rule.why})`);
      }
    }
  }
  return found;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const found = violations(join(fileURLToPath(import.meta.url), "..", ".."));
  for (const v of found) console.error(v);
  process.exit(found.length > 0 ? 1 : 0);
}
