/**
 * Generates the CloudFront FLE key pair inside AWS. The private key goes straight into the Secrets
 * Manager secret (encrypted with the data key; readable by the API role only) and is never returned:
 * the caller — a deploy-time invocation whose result Pulumi stores — receives the public key only.
 * Writing a new version makes it AWSCURRENT and turns the previous one into AWSPREVIOUS, which the
 * handlers keep trying while CloudFront still encrypts with the previous public key.
 */
import { createHash, generateKeyPairSync } from "node:crypto";

/** The invocation payload (infra/fle.ts). */
export interface BootstrapInput {
  readonly action: "generate";
  readonly generation: number;
  /** The CloudFront public-key name; the RSA keyring's key name. */
  readonly keyName: string;
  /** The FLE profile's provider ID; the RSA keyring's namespace. */
  readonly providerId: string;
  readonly secretId: string;
}

export interface BootstrapResult {
  readonly publicKeyPem: string;
  readonly keyName: string;
  readonly generation: number;
}

/** Writes a secret version; the token makes a retry with the same generation idempotent or fail. */
export interface SecretWriter {
  putSecretValue(secretId: string, value: string, clientRequestToken: string): Promise<void>;
}

export interface BootstrapDeps {
  readonly secrets: SecretWriter;
  readonly now?: () => Date;
}

/** Invalid invocation input; names the field, never a value. */
export class BootstrapInputError extends Error {
  override readonly name = "BootstrapInputError";
}

const namePattern = /^[A-Za-z0-9_-]{1,128}$/;

function parseInput(raw: unknown): BootstrapInput {
  const v = (raw ?? {}) as Record<string, unknown>;
  if (v.action !== "generate") throw new BootstrapInputError("action must be generate");
  if (typeof v.generation !== "number" || !Number.isInteger(v.generation) || v.generation < 1)
    throw new BootstrapInputError("generation must be a positive integer");
  for (const f of ["keyName", "providerId"] as const)
    if (typeof v[f] !== "string" || !namePattern.test(v[f] as string))
      throw new BootstrapInputError(`${f} must be 1-128 letters, digits, - or _`);
  if (typeof v.secretId !== "string" || v.secretId.length === 0)
    throw new BootstrapInputError("secretId is required");
  return v as unknown as BootstrapInput;
}

/**
 * Validates the input, generates an RSA-2048 key pair, stores the private key as the secret's new
 * current version and returns the public key (SPKI PEM, what CloudFront accepts).
 */
export async function bootstrapFleKey(raw: unknown, deps: BootstrapDeps): Promise<BootstrapResult> {
  const input = parseInput(raw);
  const { publicKey, privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicExponent: 0x10001,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  const value = JSON.stringify({
    keyName: input.keyName,
    providerId: input.providerId,
    generation: input.generation,
    privateKeyPem: privateKey,
    createdAt: (deps.now ?? (() => new Date()))().toISOString(),
  });
  // One version per generation: a retry of the same generation cannot silently swap the key.
  const token = createHash("sha256")
    .update(`${input.keyName}:${input.generation}`)
    .digest("hex")
    .slice(0, 64);
  await deps.secrets.putSecretValue(input.secretId, value, token);
  return { publicKeyPem: publicKey, keyName: input.keyName, generation: input.generation };
}
