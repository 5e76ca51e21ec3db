/**
 * The Encryption SDK client. `buildClient` of `@aws-crypto/client-node` is exactly
 * `{ ...buildEncrypt(options), ...buildDecrypt(options) }`; it is composed here from those two packages
 * because the umbrella ships CommonJS only and re-exports every keyring, so a bundle importing it also
 * carries the hierarchical keyring with its DynamoDB client and the aggregated KMS client.
 */
import { buildDecrypt } from "@aws-crypto/decrypt-node";
import { buildEncrypt } from "@aws-crypto/encrypt-node";
import type { ClientOptions } from "@aws-crypto/material-management-node";

/** What `buildClient(options)` of `@aws-crypto/client-node` returns. */
export type EsdkClient = ReturnType<typeof buildEncrypt> & ReturnType<typeof buildDecrypt>;

/** `buildClient(options)` of `@aws-crypto/client-node`. */
export function buildClient(options: ClientOptions): EsdkClient {
  return { ...buildEncrypt(options), ...buildDecrypt(options) };
}
