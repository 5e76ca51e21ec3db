/**
 * Rotation of the API key CloudFront sends to API Gateway as an origin custom header, without a
 * moment in which valid traffic is rejected: the new key is valid before CloudFront starts sending it,
 * and the old keys stay valid until the distribution has finished deploying the new header everywhere.
 * The key it replaces stays valid until the next rotation: a deploy writes the newest key of the plan
 * into the distribution (infra/cdn.ts), and one that read it just before this rotation still writes a
 * key the API accepts.
 * Pure logic over injected ports; the AWS wiring is in handler.ts.
 */

/** A key of the usage plan, as listed (never with its value). */
export interface KeyRef {
  readonly id: string;
  readonly name: string;
}

/** API Gateway: the usage plan's keys. */
export interface GatewayPort {
  /** Creates an enabled key and returns its id and secret value. */
  createKey(name: string): Promise<{ id: string; value: string }>;
  addToUsagePlan(keyId: string): Promise<void>;
  deleteKey(keyId: string): Promise<void>;
  /** The keys currently in the usage plan. */
  listKeys(): Promise<readonly KeyRef[]>;
}

/** CloudFront: the API origin's `x-api-key` header. */
export interface CdnPort {
  getOriginHeader(): Promise<string | undefined>;
  setOriginHeader(value: string): Promise<void>;
  /** Resolves true once the distribution is deployed, false if the time budget ran out first. */
  waitDeployed(): Promise<boolean>;
}

/** Messages carry ids and counts only, never a key value. */
export interface RotationLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface RotateDeps {
  readonly gateway: GatewayPort;
  readonly cdn: CdnPort;
  readonly now: () => Date;
  readonly logger: RotationLogger;
  /** Names of created keys start with this (e.g. `veil-prod-cloudfront-`). */
  readonly keyNamePrefix: string;
  /** Waits before switching the header: API Gateway needs a moment to accept a new key. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** How long to let a new key propagate in API Gateway; 10 s by default. */
  readonly settleMs?: number;
}

export type RotateResult =
  /** The header carries the new key everywhere; the replaced key is kept, older ones are gone. */
  | {
      readonly status: "rotated";
      readonly keyId: string;
      readonly previous?: string;
      readonly deleted: readonly string[];
    }
  /** The header was switched but the distribution is still deploying: old keys kept for the next run. */
  | { readonly status: "pending"; readonly keyId: string; readonly kept: readonly string[] }
  /** Someone else changed the header meanwhile: nothing deleted, the new key kept valid. */
  | { readonly status: "conflict"; readonly keyId: string };

/**
 * Rotates the origin API key: create → add to the usage plan → switch CloudFront's header → wait for
 * the deployment → delete every other key of the plan but the newest (the one just replaced). A failure
 * before the switch removes the new key again and leaves traffic on the old one; a failure after it
 * deletes nothing.
 */
export async function rotateApiKey(deps: RotateDeps): Promise<RotateResult> {
  const { gateway, cdn, logger } = deps;
  const name = `${deps.keyNamePrefix}${deps.now().toISOString().replace(/[:.]/g, "-")}`;
  const created = await gateway.createKey(name);
  logger.info("api key created", { keyId: created.id });

  try {
    await gateway.addToUsagePlan(created.id);
    await (deps.sleep ?? defaultSleep)(deps.settleMs ?? 10_000);
    await cdn.setOriginHeader(created.value);
  } catch (err) {
    // If the switch went through despite the error (e.g. a lost response), the new key is live.
    const live = await cdn.getOriginHeader().catch(() => undefined);
    if (live !== created.value) {
      await gateway.deleteKey(created.id).catch(() => {
        logger.warn("could not remove the unused new key", { keyId: created.id });
      });
      logger.warn("rotation aborted before the switch; the old key still serves", { keyId: created.id });
      throw err;
    }
  }
  logger.info("origin header switched", { keyId: created.id });

  // Names end in the creation time: the newest other key is the one the header carried until now.
  const others = (await gateway.listKeys())
    .filter((k) => k.id !== created.id)
    .sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
  const previous = others[0]?.id;
  const stale = others.slice(1).map((k) => k.id);
  if (!(await cdn.waitDeployed())) {
    logger.warn("distribution still deploying; old keys kept until the next run", { kept: others.length });
    return { status: "pending", keyId: created.id, kept: others.map((k) => k.id) };
  }
  if ((await cdn.getOriginHeader()) !== created.value) {
    logger.warn("origin header changed during the rotation; no key deleted", { keyId: created.id });
    return { status: "conflict", keyId: created.id };
  }
  for (const id of stale) await gateway.deleteKey(id);
  logger.info("old api keys deleted", { deleted: stale.length, kept: previous ? 1 : 0 });
  return { status: "rotated", keyId: created.id, previous, deleted: stale };
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
