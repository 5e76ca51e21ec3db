/**
 * Whether a built bundle is still current: next to each `index.mjs`, `build.json` lists every file
 * esbuild read for it (plus the build script, the manifest and the lockfile) and when the build
 * started. A bundle is fresh when none of those files changed since; a changed source, a new dependency
 * version or another flavour makes it stale. Cheap enough to check at every start of the local stack.
 */
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Metafile } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));

/** Files that decide a bundle without being bundled: the build options, the entries, the versions. */
const alwaysInputs = [join(here, "build.ts"), join(here, "manifest.ts"), join(here, "..", "pnpm-lock.yaml")];

/** What else decides a bundle: its flavour and any esbuild overrides (JSON; `{}` for real bundles). */
export interface BuildSettings {
  readonly flavour: string;
  readonly overrides: string;
}

interface BuildRecord {
  readonly settings: BuildSettings;
  /** Epoch ms when the build started: an input modified later was maybe not seen. */
  readonly startedAt: number;
  /** Absolute paths of every input. */
  readonly inputs: readonly string[];
}

const recordFile = (outfile: string) => join(dirname(outfile), "build.json");

/** Writes the build record of `outfile` (after the bundle itself, atomically). */
export function recordBuildInputs(
  outfile: string,
  metafile: Metafile,
  settings: BuildSettings,
  startedAt: number,
): void {
  const inputs = [
    ...alwaysInputs,
    ...Object.keys(metafile.inputs)
      .map((p) => resolve(p))
      .filter((p) => existsSync(p)),
  ];
  const record: BuildRecord = { settings, startedAt, inputs };
  const file = recordFile(outfile);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record)}\n`);
  renameSync(tmp, file);
}

/**
 * True when `outfile` exists, was built with these settings, and none of its inputs changed since.
 *
 * @example
 *   if (!isFresh(bundleFile(dir, "records"), { flavour: "test", overrides: "{}" })) await buildBundles(…);
 */
export function isFresh(outfile: string, settings: BuildSettings): boolean {
  let record: BuildRecord;
  try {
    if (!existsSync(outfile)) return false;
    record = JSON.parse(readFileSync(recordFile(outfile), "utf8")) as BuildRecord;
  } catch {
    return false;
  }
  if (record.settings?.flavour !== settings.flavour || record.settings.overrides !== settings.overrides)
    return false;
  return record.inputs.every((input) => {
    try {
      return statSync(input).mtimeMs < record.startedAt;
    } catch {
      return false;
    }
  });
}
