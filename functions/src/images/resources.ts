import { Resource } from "sst/resource";

/**
 * The linked resources only the image functions read (the shared ones — App, Database, RecordsKey,
 * UserPool, UserPoolClient, FleKey — come from `../shared/resources.ts`). Link names in `infra/`.
 */
export interface ImageResources {
  /** Versioned bucket of encrypted uploads (FLE key); its ObjectCreated events trigger the ingest. */
  readonly InboxBucket: { readonly name: string };
  /** Versioned bucket of stored images (envelope-encrypted, KMS key). */
  readonly ImagesBucket: { readonly name: string };
  /** The FLE public key handed to browsers (the private half is `FleKey`, never linked here). */
  readonly FlePublicKey: { readonly pem: string; readonly keyName: string; readonly providerId: string };
}

/** One image resource; throws a configuration error naming it when it is not linked. */
export function linkedImage<K extends keyof ImageResources>(name: K): ImageResources[K] {
  try {
    const value = (Resource as unknown as ImageResources)[name];
    if (value === undefined) throw new Error("missing");
    return value;
  } catch {
    throw new Error(`resource ${name} is not linked to this function`);
  }
}
