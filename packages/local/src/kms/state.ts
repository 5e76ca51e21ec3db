import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";

/**
 * The persisted state of the local KMS: keys (with their material versions, as a local stand-in must keep
 * them somewhere) and aliases. Never plaintext of anything encrypted under the keys: nothing but this
 * file is written, and it holds no request data.
 */

export type KeyState = "Enabled" | "Disabled" | "PendingDeletion";

/** One version of a key's material; versions only grow, old ones stay to decrypt old ciphertexts. */
export interface MaterialVersion {
  readonly version: number;
  /** 32 bytes, base64. */
  readonly material: string;
  readonly createdAt: number;
}

/** A rotation, as ListKeyRotations reports it. */
export interface RotationRecord {
  readonly version: number;
  readonly date: number;
  readonly type: "AUTOMATIC" | "ON_DEMAND";
}

export interface KeyRecord {
  readonly keyId: string;
  readonly arn: string;
  description: string;
  readonly createdAt: number;
  state: KeyState;
  deletionDate?: number;
  pendingWindowInDays?: number;
  /** The policy document text as it was put. */
  policy: string;
  rotationEnabled: boolean;
  rotationPeriodInDays: number;
  nextRotationDate?: number;
  rotations: RotationRecord[];
  materials: MaterialVersion[];
  currentVersion: number;
}

export interface AliasRecord {
  readonly name: string;
  targetKeyId: string;
  readonly createdAt: number;
  updatedAt: number;
}

export interface KmsState {
  readonly formatVersion: 1;
  keys: KeyRecord[];
  aliases: AliasRecord[];
}

const FILE = "state.json";

/** Reads `<dir>/state.json`, or an empty state when there is none yet. */
export function loadState(dir: string): KmsState {
  let text: string;
  try {
    text = readFileSync(join(dir, FILE), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { formatVersion: 1, keys: [], aliases: [] };
    throw err;
  }
  const state = JSON.parse(text) as KmsState;
  if (state.formatVersion !== 1) throw new Error("local KMS state file has an unknown format version");
  return state;
}

/** Writes the state atomically: a temporary file in the same folder, fsync, then rename over the old one. */
export function saveState(dir: string, state: KmsState): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${FILE}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, JSON.stringify(state, null, 2));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, FILE));
}
