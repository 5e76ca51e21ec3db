import { createHash } from "node:crypto";
import type { ApiKeyPlan } from "./types.ts";

/** A valid key with its id, as API Gateway shows both in `requestContext.identity`. */
export interface ApiKey {
  readonly id: string;
  readonly value: string;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * The usage plan at run time: which keys are valid, and a token bucket per key (refilled at
 * `rateLimit`/s up to `burstLimit`), as API Gateway throttles per key.
 */
export class UsagePlan {
  private keys = new Map<string, ApiKey>();
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly plan: ApiKeyPlan,
    private readonly now: () => number,
  ) {
    this.setKeys(plan.keys);
  }

  /** Replaces the valid keys; buckets of removed keys are dropped, those of kept keys survive. */
  setKeys(keys: ApiKeyPlan["keys"]): void {
    const next = new Map<string, ApiKey>();
    for (const k of keys) {
      const key = typeof k === "string" ? { id: keyId(k), value: k } : k;
      next.set(key.value, key);
    }
    this.keys = next;
    for (const value of this.buckets.keys()) if (!next.has(value)) this.buckets.delete(value);
  }

  /** The key for a presented value, or `undefined` when it is not in the plan. */
  find(value: string | undefined): ApiKey | undefined {
    return value === undefined ? undefined : this.keys.get(value);
  }

  /** Takes one token for `key`; `false` means throttled. */
  take(key: ApiKey): boolean {
    const throttle = this.plan.throttle;
    if (throttle === undefined) return true;
    const now = this.now();
    const bucket = this.buckets.get(key.value) ?? { tokens: throttle.burstLimit, at: now };
    bucket.tokens = Math.min(
      throttle.burstLimit,
      bucket.tokens + ((now - bucket.at) / 1000) * throttle.rateLimit,
    );
    bucket.at = now;
    this.buckets.set(key.value, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}

/** A stable, non-reversible id for a key given as a bare string (the value itself is a secret). */
function keyId(value: string): string {
  return createHash("sha256").update(value).digest("hex").slice(0, 10);
}
