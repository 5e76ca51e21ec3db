#!/usr/bin/env node
// Enforces the arrows of the design: who may import whom. Run by `pnpm lint`; tested in boundaries.test.ts.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Each rule: files under `dir` (tests included; but those whose repository path matches `except`, and
 * only those matching `only` when given) must not import a specifier matching `forbidden`. A relative import that climbs into another workspace
 * package is read as that package's name (`../functions/manifest.ts` from infra is
 * `@veil/functions/manifest`; a file no export names is `@veil/functions/src/...`), so the rules see
 * it; a relative import within a package keeps its spelling.
 */
export const rules = [
  { dir: "packages/core", forbidden: /^@veil\//, why: "core imports no other internal package" },
  {
    dir: "packages/aws",
    except: /\.test\.ts$/,
    forbidden: /^@veil\//,
    why: "aws imports no other internal package",
  },
  {
    dir: "packages/aws",
    only: /\.test\.ts$/,
    forbidden: /^@veil\/(?!local\/src\/(kms|secrets|cognito)\/)/,
    why: "aws's tests may run against the local KMS, Secrets Manager and Cognito stand-ins, nothing else internal",
  },
  {
    dir: "packages/aws/src",
    except: /\.test\.ts$/,
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
    except: /\.test\.ts$/,
    forbidden: /^@aws-sdk\/|^@aws-crypto\/|^@smithy\//,
    why: "no AWS SDK in the edge bundle",
  },
  { dir: "packages/crypto", forbidden: /^@veil\/(?!(core|aws)$)/, why: "crypto imports only core and aws" },
  {
    dir: "packages/crypto",
    except: /\.test\.ts$/,
    forbidden: /^@aws-sdk\//,
    why: "the handler path calls KMS through @veil/aws, not the AWS SDK",
  },
  {
    dir: "packages/db",
    except: /\.test\.ts$/,
    forbidden: /^@aws-sdk\//,
    why: "RDS IAM tokens come from @veil/aws, not the AWS SDK",
  },
  {
    dir: "functions/src",
    except: /\.test\.ts$/,
    forbidden: /^@aws-sdk\/(client-kms|client-secrets-manager|rds-signer)$/,
    why: "handlers reach KMS, Secrets Manager and RDS through @veil/aws, not the AWS SDK",
  },
  { dir: "packages/log", forbidden: /^@veil\/(?!core$)/, why: "log imports only core" },
  {
    dir: "packages/storage",
    except: /\.test\.ts$/,
    forbidden: /^@veil\/(?!core$)/,
    why: "storage imports only core",
  },
  {
    dir: "packages/storage",
    only: /\.test\.ts$/,
    forbidden: /^@veil\/(?!(core|crypto|crypto\/testing)$)/,
    why: "storage's tests may also use @veil/crypto (a devDependency) as their oracle",
  },
  {
    dir: "infra",
    except: /^infra\/smoke\//,
    forbidden: /^@veil\/(?!(core|functions\/manifest)$)/,
    why: "infra imports only core and the function manifest, never handler code",
  },
  {
    dir: "infra/smoke",
    forbidden: /^@veil\/(?!(core|functions\/manifest|local\/src\/client\/index\.ts)$)/,
    why: "the smoke test (a dev tool, never deployed) calls the API through the local API client",
  },
  {
    dir: "packages/local",
    forbidden: /^@veil\/functions(?!\/(manifest|build|test-switches)$)|(^|\/)functions\/src\//,
    why: "the local stack runs the functions' bundles, never their sources",
  },
  {
    dir: "packages/local",
    forbidden: /^@veil\/infra\/(?!stage\.ts$)|^@veil\/infra$/,
    why: "the local stack reads infra's stage config (plain data) and nothing else of infra",
  },
  {
    dir: "packages/local/src",
    except: /^packages\/local\/src\/(proof|cli)\/|\.test\.ts$/,
    forbidden: /(^|\/)proof\//,
    why: "the local stack and stand-ins never import the proof tests' code (the CLIs may)",
  },
  {
    dir: "web/src",
    forbidden: /^@veil\/(?!(core|storage\/upload-web)$)/,
    why: "the browser app imports only @veil/core and the browser upload encryption",
  },
  {
    dir: "web/e2e",
    forbidden: /^@veil\/functions\/(?!(manifest|build)$)/,
    why: "the browser tests drive the local stack, never handler sources",
  },
  {
    dir: "bench",
    forbidden: /^@veil\/functions\/test-switches$|^@veil\/local\/src\/proof\/|\.test\.tsx?$/,
    why: "the benchmarks measure the code as shipped: no test switches, proof code or test files",
  },
  {
    dir: ".",
    except: /^bench\//,
    forbidden: /^veil\/bench\//,
    why: "nothing imports the benchmarks",
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
    else if (/\.(m?[jt]sx?)$/.test(name) && !name.endsWith(".d.ts")) yield path;
  }
}

/** The workspace packages (as pnpm-workspace.yaml lists them): folder, name and exports. */
function workspacePackages(root) {
  const dirs = ["functions", "edge", "web", "infra"];
  try {
    for (const name of readdirSync(join(root, "packages"))) dirs.push(`packages/${name}`);
  } catch {
    // no packages folder
  }
  return dirs.map((dir) => {
    const file = join(root, dir, "package.json");
    const pkg = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
    const exports = typeof pkg.exports === "object" && pkg.exports !== null ? pkg.exports : {};
    return { dir, name: pkg.name ?? `@veil/${dir.split("/").pop()}`, exports };
  });
}

/** The package of a repository path: a workspace package, or the repository itself (`veil`). */
function packageOf(packages, path) {
  const found = packages.find((p) => path === p.dir || path.startsWith(`${p.dir}/`));
  return found ?? { dir: "", name: "veil", exports: {} };
}

/**
 * What an import names: bare specifiers as written; a relative one into another package by that
 * package's name and the export that names the file, else its path inside the package.
 */
function canonical(root, packages, file, spec) {
  if (!spec.startsWith(".")) return spec;
  const target = relative(root, resolve(dirname(file), spec))
    .split(sep)
    .join("/");
  const from = packageOf(packages, relative(root, file).split(sep).join("/"));
  const to = packageOf(packages, target);
  if (from.dir === to.dir) return spec;
  const inside = to.dir === "" ? target : target.slice(to.dir.length + 1);
  const exported = Object.entries(to.exports).find(([, t]) => t === `./${inside}`)?.[0];
  if (exported !== undefined) return exported === "." ? to.name : `${to.name}/${exported.slice(2)}`;
  return `${to.name}/${inside}`;
}

/** Lists every violation of `rules` under `root`. */
export function violations(root) {
  const packages = workspacePackages(root);
  const found = [];
  for (const rule of rules) {
    for (const file of sourceFiles(join(root, rule.dir))) {
      const path = relative(root, file).split(sep).join("/");
      if (rule.except?.test(path) || (rule.only && !rule.only.test(path))) continue;
      for (const spec of importsOf(readFileSync(file, "utf8"))) {
        const named = canonical(root, packages, file, spec);
        if (rule.forbidden.test(named)) {
          found.push(`${path}: imports ${spec}${named === spec ? "" : ` (${named})`} (${rule.why})`);
        }
      }
    }
  }
  return found;
}

// `node scripts/check-boundaries.mjs [root]`: the repository this script is in, or another root.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const found = violations(process.argv[2] ?? join(fileURLToPath(import.meta.url), "..", ".."));
  for (const v of found) console.error(v);
  process.exit(found.length > 0 ? 1 : 0);
}
