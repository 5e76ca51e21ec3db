/**
 * The keyed hash an Idempotency-Key is bound to, and the secret it is keyed with.
 *
 * The key is a dedicated secret, 32 random bytes in Secrets Manager, readable by the records function
 * only; it is not derived from the FLE private key, so a client's keyed retry still replays after the
 * FLE key rotates. Keyed, because a plain hash of a record's low-entropy fields (a name, a birth date)
 * could be reversed by guessing. The first records function to need it generates it: Secrets Manager
 * accepts one first version (a fixed request token), so instances starting together all end up with
 * the same key, and the key never passes through deploy tooling or its state.
 */
import { createHmac, randomBytes } from "node:crypto";
import type { SecretsManagerClient } from "@veil/aws";
import { HttpError } from "../shared/errors.ts";

/** Size of the HMAC-SHA256 key. */
export const requestHashKeyBytes = 32;

/**
 * Request token of the key's one and only generated version. Secrets Manager refuses a second
 * `PutSecretValue` with this token and another value, so concurrent first uses cannot overwrite each
 * other.
 */
export const firstVersionToken = "veil-idempotency-request-hash-key-v1";

/** The Secrets Manager calls the key needs. */
export type RequestHashSecrets = Pick<SecretsManagerClient, "getSecretValue" | "putSecretValue">;

/** Hashes the canonical parts of a request (length-prefixed, so no two lists hash alike). */
export interface RequestHasher {
  (parts: readonly string[]): Promise<string>;
  /** Starts reading the key now (at a cold start), without waiting or failing: a failure is retried on use. */
  warm(): void;
}

function decodeKey(secret: string | undefined): Buffer {
  const key = Buffer.from(secret ?? "", "base64");
  if (key.length !== requestHashKeyBytes || key.toString("base64") !== secret) {
    throw new Error(`the idempotency secret is not ${requestHashKeyBytes} bytes in base64`);
  }
  return key;
}

const named = (err: unknown, name: string) => err instanceof Error && err.name === name;

/**
 * Reads the key (AWSCURRENT); when the secret has no value yet, writes a fresh random one as its
 * first version and reads again, which returns whichever first version won.
 *
 * @example
 * const key = await loadRequestHashKey(createSecretsManagerClient(), linked("IdempotencySecret").secretArn);
 */
export async function loadRequestHashKey(secrets: RequestHashSecrets, secretArn: string): Promise<Buffer> {
  try {
    return decodeKey((await secrets.getSecretValue({ SecretId: secretArn })).SecretString);
  } catch (err) {
    if (!named(err, "ResourceNotFoundException")) throw err;
  }
  const fresh = randomBytes(requestHashKeyBytes);
  try {
    await secrets.putSecretValue({
      SecretId: secretArn,
      SecretString: fresh.toString("base64"),
      ClientRequestToken: firstVersionToken,
    });
  } catch (err) {
    // Another instance wrote the first version a moment earlier: read theirs.
    if (!named(err, "ResourceExistsException")) throw err;
  } finally {
    fresh.fill(0);
  }
  return decodeKey((await secrets.getSecretValue({ SecretId: secretArn })).SecretString);
}

/** AWS answers that mean "try again later", as opposed to a configuration error (a 500 that alarms). */
const transient = (err: unknown) =>
  err instanceof Error &&
  (err.name === "TimeoutError" ||
    err.name === "NetworkError" ||
    err.name === "ThrottlingException" ||
    err.name === "InternalServiceError" ||
    ("statusCode" in err && typeof err.statusCode === "number" && err.statusCode >= 500));

/**
 * Builds the request hasher over a key loader: the key is loaded once (single-flight; concurrent
 * first requests share one load) and kept for the life of the instance; a failed load is not cached.
 * A transient failure answers 503 with Retry-After, and a keyed create is then not written at all.
 *
 * @example
 * const requestHash = createRequestHasher(() => loadRequestHashKey(secrets, arn));
 * const hash = await requestHash(["category", "general", "fullName", "…"]);
 */
export function createRequestHasher(loadKey: () => Promise<Uint8Array>): RequestHasher {
  let key: Promise<Uint8Array> | undefined;
  const get = () => {
    key ??= loadKey().catch((err: unknown) => {
      key = undefined;
      throw err;
    });
    return key;
  };
  const hash = async (parts: readonly string[]) => {
    let k: Uint8Array;
    try {
      k = await get();
    } catch (err) {
      if (!transient(err)) throw err;
      throw new HttpError(503, "Unavailable", "A dependency is unavailable; try again shortly", undefined, 2);
    }
    const h = createHmac("sha256", k);
    for (const p of parts) h.update(`${p.length}:${p}`);
    return h.digest("base64url");
  };
  return Object.assign(hash, {
    warm() {
      get().catch(() => undefined);
    },
  });
}
