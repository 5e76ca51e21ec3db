import { randomBytes, randomUUID } from "node:crypto";
import { KmsError, notFound } from "./errors.ts";
import { type AliasRecord, type KeyRecord, type KmsState, loadState, saveState } from "./state.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Default and bounds of automatic rotation, as AWS KMS has them. */
export const ROTATION_PERIOD_DAYS = { default: 365, min: 90, max: 2560 } as const;

/**
 * The keys and aliases of one local KMS, their lifecycle (rotation, scheduled deletion) driven by an
 * injectable clock, and their persistence.
 */
export class KeyStore {
  private state: KmsState;

  constructor(
    private readonly dir: string,
    readonly region: string,
    readonly accountId: string,
    readonly now: () => number,
  ) {
    this.state = loadState(dir);
  }

  keyArn(keyId: string): string {
    return `arn:aws:kms:${this.region}:${this.accountId}:key/${keyId}`;
  }

  aliasArn(name: string): string {
    return `arn:aws:kms:${this.region}:${this.accountId}:${name}`;
  }

  /** Persists the state; call after every change. */
  save(): void {
    saveState(this.dir, this.state);
  }

  keys(): readonly KeyRecord[] {
    return this.state.keys;
  }

  aliases(): readonly AliasRecord[] {
    return this.state.aliases;
  }

  /** Creates a symmetric key with one fresh material version. */
  create(policy: string, description: string): KeyRecord {
    const keyId = randomUUID();
    const now = this.now();
    const key: KeyRecord = {
      keyId,
      arn: this.keyArn(keyId),
      description,
      createdAt: now,
      state: "Enabled",
      policy,
      rotationEnabled: false,
      rotationPeriodInDays: ROTATION_PERIOD_DAYS.default,
      rotations: [],
      materials: [{ version: 1, material: randomBytes(32).toString("base64"), createdAt: now }],
      currentVersion: 1,
    };
    this.state.keys.push(key);
    this.save();
    return key;
  }

  /** The key a KeyId names: key id, key ARN, `alias/name` or alias ARN. Throws `NotFoundException`. */
  resolve(input: string): { key: KeyRecord; alias?: string } {
    const aliasPrefix = `arn:aws:kms:${this.region}:${this.accountId}:alias/`;
    let aliasName: string | undefined;
    if (input.startsWith("alias/")) aliasName = input;
    else if (input.startsWith("arn:aws:kms:") && input.includes(":alias/")) {
      if (!input.startsWith(aliasPrefix)) throw notFound(`Alias ${input} is not found.`);
      aliasName = input.slice(aliasPrefix.length - "alias/".length);
    }
    if (aliasName !== undefined) {
      const alias = this.state.aliases.find((a) => a.name === aliasName);
      const key = alias && this.byId(alias.targetKeyId);
      if (!key) throw notFound(`Alias ${this.aliasArn(aliasName)} is not found.`);
      return { key, alias: aliasName };
    }
    const keyPrefix = `arn:aws:kms:${this.region}:${this.accountId}:key/`;
    const keyId = input.startsWith("arn:")
      ? input.startsWith(keyPrefix)
        ? input.slice(keyPrefix.length)
        : ""
      : input;
    const key = keyId === "" ? undefined : this.byId(keyId);
    if (!key) throw notFound(`Key '${input.startsWith("arn:") ? input : this.keyArn(input)}' does not exist`);
    return { key };
  }

  byId(keyId: string): KeyRecord | undefined {
    return this.state.keys.find((k) => k.keyId === keyId);
  }

  alias(name: string): AliasRecord | undefined {
    return this.state.aliases.find((a) => a.name === name);
  }

  putAlias(name: string, targetKeyId: string): void {
    const now = this.now();
    const existing = this.alias(name);
    if (existing) {
      existing.targetKeyId = targetKeyId;
      existing.updatedAt = now;
    } else {
      this.state.aliases.push({ name, targetKeyId, createdAt: now, updatedAt: now });
    }
    this.save();
  }

  deleteAlias(name: string): void {
    this.state.aliases = this.state.aliases.filter((a) => a.name !== name);
    this.save();
  }

  /** The material of one version; throws `InvalidCiphertextException` for a version the key never had. */
  material(key: KeyRecord, version: number): Buffer {
    const m = key.materials.find((v) => v.version === version);
    if (!m)
      throw new KmsError("InvalidCiphertextException", "The ciphertext refers to an unknown key version.");
    return Buffer.from(m.material, "base64");
  }

  /** Adds a material version; encrypts from now on use it, older versions still decrypt. */
  rotate(key: KeyRecord, type: "AUTOMATIC" | "ON_DEMAND", at = this.now()): void {
    const version = key.currentVersion + 1;
    key.materials.push({ version, material: randomBytes(32).toString("base64"), createdAt: at });
    key.rotations.push({ version, date: at, type });
    key.currentVersion = version;
  }

  scheduleRotation(key: KeyRecord): void {
    key.nextRotationDate = key.rotationEnabled ? this.now() + key.rotationPeriodInDays * DAY_MS : undefined;
  }

  scheduleDeletion(key: KeyRecord, windowDays: number): void {
    key.state = "PendingDeletion";
    key.pendingWindowInDays = windowDays;
    key.deletionDate = this.now() + windowDays * DAY_MS;
  }

  /**
   * Applies what the clock says is due: automatic rotations, and deletion of keys whose waiting period
   * has passed (with their aliases; their ciphertexts can never be decrypted again).
   */
  tick(): void {
    const now = this.now();
    let changed = false;
    const dead = new Set<string>();
    for (const key of this.state.keys) {
      if (key.state === "PendingDeletion" && key.deletionDate !== undefined && now >= key.deletionDate) {
        dead.add(key.keyId);
        continue;
      }
      if (key.state !== "Enabled" || !key.rotationEnabled || key.nextRotationDate === undefined) continue;
      while (now >= key.nextRotationDate) {
        this.rotate(key, "AUTOMATIC", key.nextRotationDate);
        key.nextRotationDate += key.rotationPeriodInDays * DAY_MS;
        changed = true;
      }
    }
    if (dead.size > 0) {
      this.state.keys = this.state.keys.filter((k) => !dead.has(k.keyId));
      this.state.aliases = this.state.aliases.filter((a) => !dead.has(a.targetKeyId));
      changed = true;
    }
    if (changed) this.save();
  }
}
