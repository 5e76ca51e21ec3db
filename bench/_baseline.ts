/**
 * Another revision of the AWS client and edge sources, to measure beside the working tree in one run
 * (`pnpm bench:run aws-clients edge -- --baseline=<git ref>`). `packages/aws/src` and `edge/src` of that
 * revision are extracted next to the working copies (`packages/aws/.baseline-…/src`,
 * `edge/.baseline-…/src`), so their imports resolve against the installed dependencies; a dependency
 * the revision needs and the workspace no longer installs fails the build with esbuild's message.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The extracted sources of one revision. */
export interface Baseline {
  /** The ref as given, for notes. */
  readonly ref: string;
  /** Holds `src/` of `packages/aws` at `ref`; use as esbuild's `resolveDir`. */
  readonly awsDir: string;
  /** Holds `src/` of `edge` at `ref`. */
  readonly edgeDir: string;
  remove(): void;
}

/** `--baseline=<ref>` from the command line's flags, if given. */
export function baselineRef(flags: ReadonlySet<string>): string | undefined {
  for (const flag of flags) if (flag.startsWith("--baseline=")) return flag.slice("--baseline=".length);
  return undefined;
}

function extract(ref: string, path: string, into: string): void {
  // Tests stay behind: a test runner must never find them here.
  const tar = execFileSync("git", ["-C", root, "archive", "--format=tar", ref, path, ":(exclude)*.test.ts"], {
    maxBuffer: 64 << 20,
  });
  execFileSync("tar", ["-x", "-C", into, `--strip-components=${path.split("/").length - 1}`], { input: tar });
}

/**
 * Extracts `packages/aws/src` and `edge/src` of `ref`.
 *
 * @example
 * const base = extractBaseline("HEAD~1");
 * try { await build({ stdin: { contents, resolveDir: base.awsDir } }); } finally { base.remove(); }
 */
export function extractBaseline(ref: string): Baseline {
  const awsDir = mkdtempSync(join(root, "packages", "aws", ".baseline-"));
  const edgeDir = mkdtempSync(join(root, "edge", ".baseline-"));
  const remove = () => {
    rmSync(awsDir, { recursive: true, force: true });
    rmSync(edgeDir, { recursive: true, force: true });
  };
  try {
    extract(ref, "packages/aws/src", awsDir);
    extract(ref, "edge/src", edgeDir);
  } catch (err) {
    remove();
    throw err;
  }
  return { ref, awsDir, edgeDir, remove };
}
