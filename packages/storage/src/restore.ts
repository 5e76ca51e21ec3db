/**
 * Restores a previous version of an object in a versioned bucket after it was overwritten or deleted:
 * the chosen version is copied on top, becoming the latest again. Nothing is deleted, so a restore can
 * itself be undone. Copies ciphertext only: no decryption rights are needed.
 */
import { RestoreError } from "./errors.ts";
import type { ObjectLocation, ObjectStore, ObjectVersion } from "./object-store.ts";

export interface RestoreOptions {
  /** Restore exactly this version. */
  readonly versionId?: string;
  /** Restore this version when it exists (e.g. the one recorded at ingest); else the newest older one. */
  readonly preferVersionId?: string;
}

export interface RestoreResult {
  /** The version that was copied back. */
  readonly restored: ObjectVersion;
  /** What was the latest before: an overwriting version, or a delete marker. */
  readonly replaced: ObjectVersion | undefined;
  /** The new latest version (a copy of `restored`). */
  readonly newVersionId: string | undefined;
}

/** Picks the version to restore; throws `RestoreError` when there is none or it makes no sense. */
export function chooseVersion(
  versions: readonly ObjectVersion[],
  options: RestoreOptions = {},
): ObjectVersion {
  const latest = versions.find((v) => v.isLatest);
  const candidates = versions.filter((v) => !v.isDeleteMarker);
  if (options.versionId) {
    const wanted = versions.find((v) => v.versionId === options.versionId);
    if (!wanted) throw new RestoreError("no such version");
    if (wanted.isDeleteMarker) throw new RestoreError("that version is a delete marker");
    if (wanted.isLatest) throw new RestoreError("that version is already the latest");
    return wanted;
  }
  if (options.preferVersionId && latest?.versionId === options.preferVersionId) {
    throw new RestoreError("the recorded version is already the latest");
  }
  const preferred = candidates.find((v) => v.versionId === options.preferVersionId && !v.isLatest);
  if (preferred) return preferred;
  const older = candidates.find((v) => !v.isLatest);
  if (!older || !latest) throw new RestoreError("no earlier version to restore");
  return older;
}

/** Restores a previous version of `location` (see `chooseVersion`). */
export async function restoreVersion(
  store: ObjectStore,
  location: ObjectLocation,
  options: RestoreOptions = {},
): Promise<RestoreResult> {
  const versions = await store.listVersions(location);
  if (versions.length === 0) throw new RestoreError("the object has no versions (is the bucket versioned?)");
  const restored = chooseVersion(versions, options);
  if (!restored.versionId || restored.versionId === "null") {
    throw new RestoreError("the bucket does not keep versions");
  }
  const replaced = versions.find((v) => v.isLatest);
  const copy = await store.copyVersion(location, restored.versionId);
  return { restored, replaced, newVersionId: copy.versionId };
}
