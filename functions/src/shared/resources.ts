import { Resource } from "sst/resource";
import type { LinkName } from "../../manifest.ts";

/**
 * The linked resources the functions read, one entry per link name of `manifest.ts` (`linkNames`, the
 * one list) plus `App`, which SST always adds. In AWS SST injects them; the local stack sets the same
 * `SST_RESOURCE_<Name>` variables. Read lazily: importing this module does not require them to exist.
 */
export interface LinkedResources {
  readonly App: { readonly name: string; readonly stage: string };
  /** The customer-managed KMS key of the envelope encryption. */
  readonly RecordsKey: { readonly arn: string };
  /** RDS PostgreSQL reached with IAM tokens; `url` only in the local stack (no IAM auth there). */
  readonly Database: {
    readonly host: string;
    readonly port: number;
    readonly username: string;
    readonly database: string;
    readonly url?: string;
    /** Local only: the embedded PGlite, one session shared by every function (./database.ts). */
    readonly singleSession?: boolean;
  };
  /**
   * The RDS-managed master user secret and the instance's own host (not the proxy's): linked to the
   * deploy-time database bootstrap only.
   */
  readonly DatabaseMaster: { readonly secretArn: string; readonly host: string };
  readonly UserPool: { readonly id: string };
  readonly UserPoolClient: { readonly id: string };
  /** Secrets Manager secret holding the FLE private key (JSON: privateKeyPem, keyName) and its provider id. */
  readonly FleKey: { readonly secretArn: string; readonly providerId: string };
  /**
   * Secrets Manager secret holding the key of the idempotency request hash (32 random bytes, base64),
   * written once by the records function's first use; linked to the records function only.
   */
  readonly IdempotencySecret: { readonly secretArn: string };
  /** The FLE public key handed to browsers (the private half is `FleKey`, never linked with it). */
  readonly FlePublicKey: { readonly pem: string; readonly keyName: string; readonly providerId: string };
  /** Versioned bucket of stored images (envelope-encrypted, KMS key). */
  readonly ImagesBucket: { readonly name: string };
  /** Versioned bucket of encrypted uploads (FLE key); its ObjectCreated events trigger the ingest. */
  readonly InboxBucket: { readonly name: string };
  /** The usage plan and distribution whose API key the rotation function replaces (infra/rotation.ts). */
  readonly RotationTarget: {
    readonly usagePlanId: string;
    readonly distributionId: string;
    readonly originId: string;
    readonly keyNamePrefix: string;
    /** Tags every created key carries: the role may delete only keys tagged for its stage. */
    readonly keyTags: Record<string, string>;
  };
}

/** The names `linked` accepts: exactly the manifest's link names and `App`. */
export type LinkedName = LinkName | "App";

// Compile-time check both ways: a link name without a type here, or a type without a link name in
// the manifest, fails the type-check.
type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const _sameNames: Exactly<keyof LinkedResources, LinkedName> = true;
void _sameNames;

/**
 * One linked resource; throws a configuration error naming it when it is not linked.
 *
 * @example
 * const { name } = linked("ImagesBucket");
 */
export function linked<K extends LinkedName>(name: K): LinkedResources[K] {
  try {
    const value = (Resource as unknown as LinkedResources)[name];
    if (value === undefined) throw new Error("missing");
    return value;
  } catch {
    throw new Error(`resource ${name} is not linked to this function`);
  }
}
