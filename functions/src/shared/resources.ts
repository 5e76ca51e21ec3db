import { Resource } from "sst/resource";

/**
 * The linked resources a handler reads, by their link names in `infra/`. In AWS SST injects them; the
 * local stack sets the same `SST_RESOURCE_<Name>` variables. Read lazily: importing this module does
 * not require them to exist.
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
    /** Local only: the embedded PGlite is one shared session, so one connection, reset on reconnect. */
    readonly singleSession?: boolean;
  };
  readonly UserPool: { readonly id: string };
  readonly UserPoolClient: { readonly id: string };
  /** Secrets Manager secret holding the FLE private key (JSON: privateKeyPem, keyName) and its provider id. */
  readonly FleKey: { readonly secretArn: string; readonly providerId: string };
  /**
   * Secrets Manager secret holding the key of the idempotency request hash (32 random bytes, base64),
   * written once by the records function's first use; linked to the records function only.
   */
  readonly IdempotencySecret: { readonly secretArn: string };
  /**
   * The RDS-managed master user secret and the instance's own host (not the proxy's): linked to the
   * deploy-time database bootstrap only.
   */
  readonly DatabaseMaster: { readonly secretArn: string; readonly host: string };
}

/** One linked resource; throws a configuration error naming it when it is not linked. */
export function linked<K extends keyof LinkedResources>(name: K): LinkedResources[K] {
  try {
    return (Resource as unknown as LinkedResources)[name];
  } catch {
    throw new Error(`resource ${name} is not linked to this function`);
  }
}
