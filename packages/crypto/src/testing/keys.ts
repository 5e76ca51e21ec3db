/** Test keys, generated at run time (never committed). */
import { generateKeyPairSync } from "node:crypto";

/** A fresh RSA-2048 key pair as PEM (PKCS#8 private, SPKI public), like a CloudFront FLE key. */
export function generateFleKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}
