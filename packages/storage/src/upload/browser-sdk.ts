/**
 * What the browser encryptor uses of the Encryption SDK for browsers, in a module of its own so that
 * `encrypt-web.ts` loads it on the first upload and a bundler keeps only these parts.
 */
import { buildClient, CommitmentPolicy } from "@aws-crypto/client-browser";

export { RawRsaKeyringWebCrypto, RsaPadding } from "@aws-crypto/client-browser";

// 0x0178 is the non-committing suite of CloudFront FLE; only this policy lets the SDK write it.
export const client = buildClient({
  commitmentPolicy: CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT,
  maxEncryptedDataKeys: 1,
});
