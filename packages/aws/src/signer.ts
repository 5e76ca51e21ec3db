/**
 * The SigV4 signer every AWS call of Veil goes through: `AwsV4Signer` of aws4fetch, a small, widely used
 * signer on WebCrypto. This file only adds what callers share: the date format the signer takes and one
 * bounded cache of derived signing keys. The edge imports it as `@veil/aws/sigv4`.
 */
export { AwsV4Signer } from "aws4fetch";

/** `2026-01-02T03:04:05.678Z` → `20260102T030405Z`, the `datetime` the signer takes. */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/[-:]|\.\d{3}/g, "");
}

/**
 * A `Map` that forgets its oldest entry beyond `limit` entries. aws4fetch keeps each derived signing
 * key (per secret, day, region and service) in the `cache` it is given; a process signs with a handful
 * of them, but rotated credentials must not make the map grow for the life of the process.
 */
export class BoundedCache<K, V> extends Map<K, V> {
  readonly #limit: number;

  constructor(limit: number) {
    super();
    this.#limit = Math.max(1, limit);
  }

  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.#limit) this.delete(this.keys().next().value as K);
    return super.set(key, value);
  }
}

/**
 * The signing keys of this process, shared by every client: the four HMACs that derive a key run once
 * per secret, day, region and service instead of once per request.
 *
 * @example
 * await new AwsV4Signer({ url, method: "POST", body, ...credentials, service: "kms", region, cache: signingKeys }).sign();
 */
export const signingKeys: Map<string, ArrayBuffer> = new BoundedCache<string, ArrayBuffer>(32);
