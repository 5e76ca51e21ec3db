/**
 * The Encryption SDK's official decrypt test vectors (a raw-key selection of the Python 1.3.0 set of
 * aws-encryption-sdk-test-vectors, vendored in `testing/fixtures/esdk-vectors`, see its README): the
 * stock client must decrypt every one to exactly its plaintext, and Veil's FLE decrypt must refuse
 * every one with the typed error its policy names.
 */
import { constants, createPrivateKey } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
  type WrappingSuiteIdentifier,
} from "@aws-crypto/client-node";
import { buildDecrypt } from "@aws-crypto/decrypt-node";
import {
  AlgorithmSuiteIdentifier,
  CommitmentPolicy,
  type KeyringNode,
  NodeAlgorithmSuite,
} from "@aws-crypto/material-management-node";
import { RawRsaKeyringNode } from "@aws-crypto/raw-rsa-keyring-node";
import { fleLimits } from "@veil/core";
import { describe, expect, it } from "vitest";
import { FleDecryptError } from "./errors.ts";
import { decryptFleField } from "./fle/fle-field.ts";

/** One master key of a legacy ciphertext manifest. `decryptable: false` keys were never published. */
interface MasterKey {
  provider_id: string;
  decryptable: boolean;
  encryption_algorithm: "AES" | "RSA";
  padding_algorithm?: "OAEP-MGF1" | "PKCS1";
  padding_hash?: "SHA-1" | "SHA-256";
  key_bits?: number;
}
interface TestCase {
  plaintext: { filename: string };
  ciphertext: { filename: string };
  algorithm: string;
  master_keys: MasterKey[];
}
interface Manifest {
  test_keys: {
    RSA: Record<string, { key: string[]; line_separator: string; encoding: "pem" }>;
    AES: Record<string, { key: string[]; encoding: "base64" }>;
  };
  test_cases: TestCase[];
}

const root = fileURLToPath(new URL("./testing/fixtures/esdk-vectors/", import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, "manifests/ciphertext.manifest"), "utf8")) as Manifest;
const read = (file: string) => readFileSync(join(root, file));
const rsa2048Pem = (() => {
  const { key, line_separator } = manifest.test_keys.RSA["2048"]!;
  return key.join(line_separator);
})();

const suiteOf = (test: TestCase) => Number.parseInt(test.algorithm, 16) as AlgorithmSuiteIdentifier;
const theKey = (test: TestCase) => {
  const keys = test.master_keys.filter((key) => key.decryptable);
  if (keys.length !== 1) throw new Error(`${test.ciphertext.filename}: expected one decryptable key`);
  return keys[0]!;
};

/**
 * The key name the Python 1.3.0 generator gave each static key (its EDK provider info):
 * `<algorithm>.<bits>.<padding>.<hash>`, e.g. `RSA.2048.OAEP-MGF1.SHA-1`, `AES.256..`; an AES key is
 * as long as the suite's data key.
 */
function keyName(key: MasterKey, suite: AlgorithmSuiteIdentifier): string {
  const bits = key.encryption_algorithm === "AES" ? new NodeAlgorithmSuite(suite).keyLength : key.key_bits;
  return `${key.encryption_algorithm}.${bits}.${key.padding_algorithm ?? ""}.${key.padding_hash ?? ""}`;
}

const aesWrapping: Record<string, WrappingSuiteIdentifier> = {
  "128": RawAesWrappingSuiteIdentifier.AES128_GCM_IV12_TAG16_NO_PADDING,
  "192": RawAesWrappingSuiteIdentifier.AES192_GCM_IV12_TAG16_NO_PADDING,
  "256": RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
};
const oaepHashes = { "SHA-1": "sha1", "SHA-256": "sha256" } as const;

/** The stock keyring the manifest describes for `test` (its one decryptable master key). */
function keyringFor(test: TestCase): KeyringNode {
  const key = theKey(test);
  const suite = suiteOf(test);
  const names = { keyNamespace: key.provider_id, keyName: keyName(key, suite) };
  if (key.encryption_algorithm === "AES") {
    const bits = String(new NodeAlgorithmSuite(suite).keyLength);
    const material = manifest.test_keys.AES[bits]!.key.join("");
    return new RawAesKeyringNode({
      ...names,
      // The SDK wants the key in a buffer of its own, not a view into Node's shared pool.
      unencryptedMasterKey: new Uint8Array(Buffer.from(material, "base64")),
      wrappingSuite: aesWrapping[bits]!,
    });
  }
  // PKCS#1 v1.5 vectors are not vendored: Node refuses that padding for private decryption.
  expect(key.padding_algorithm).toBe("OAEP-MGF1");
  return new RawRsaKeyringNode({
    ...names,
    rsaKey: { privateKey: createPrivateKey(rsa2048Pem) as never },
    padding: constants.RSA_PKCS1_OAEP_PADDING,
    oaepHash: oaepHashes[key.padding_hash!],
  });
}

const label = (test: TestCase) => {
  const key = theKey(test);
  const wrap = key.encryption_algorithm === "AES" ? "AES" : `RSA-OAEP-${key.padding_hash}`;
  return `0x${test.algorithm} ${wrap} ${test.master_keys.length} EDK ${test.ciphertext.filename.split("/").at(-1)}`;
};
const cases = manifest.test_cases.map((test) => [label(test), test] as const);

/** The legacy vectors use non-committing suites, which only an "allow decrypt" policy reads. */
const stock = buildDecrypt(CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT);

describe("the vendored vectors", () => {
  it("are raw-key only, cover every suite they were written for, and stay small", () => {
    const suites = new Set(manifest.test_cases.map(suiteOf));
    expect(suites.size).toBe(9);
    for (const test of manifest.test_cases) {
      expect(test.master_keys.every((key) => key.provider_id !== "aws-kms")).toBe(true);
    }
    const wraps = new Set(manifest.test_cases.map((test) => theKey(test).encryption_algorithm));
    expect([...wraps].sort()).toEqual(["AES", "RSA"]);
    const bytes = (dir: string): number =>
      readdirSync(dir).reduce((sum, name) => {
        const path = join(dir, name);
        return sum + (statSync(path).isDirectory() ? bytes(path) : statSync(path).size);
      }, 0);
    expect(bytes(root)).toBeLessThan(1024 * 1024);
  });
});

describe("official vectors through the stock Encryption SDK decrypt", () => {
  it.each(cases)("%s decrypts to its plaintext", async (_, test) => {
    const { plaintext, messageHeader } = await stock.decrypt(
      keyringFor(test),
      read(test.ciphertext.filename),
    );
    expect(Buffer.compare(plaintext, read(test.plaintext.filename))).toBe(0);
    expect(messageHeader.suiteId).toBe(suiteOf(test));
    expect(messageHeader.encryptedDataKeys).toHaveLength(test.master_keys.length);
  });
});

/**
 * What Veil's FLE policy answers for `test`, and why: CloudFront writes suite 0x0178 with one data key
 * wrapped by RSA-OAEP-SHA256; these vectors wrap with RSA-OAEP-SHA1 or AES-GCM.
 */
function fleVerdict(test: TestCase): FleDecryptError["reason"] {
  if (suiteOf(test) !== AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA256)
    return "unsupportedSuite";
  return "undecryptable"; // more than one data key, or a data key Veil's OAEP-SHA256 keyring cannot unwrap
}

/** Veil's FLE key for the vectors' RSA key, named as the vectors name it. */
const fleKey = {
  privateKeyPem: rsa2048Pem,
  providerId: "static-aws-xcompat",
  keyName: "RSA.2048.OAEP-MGF1.SHA-1",
};

describe("official vectors through Veil's decryptFleField", () => {
  it.each(cases)("%s is refused with a typed error", async (_, test) => {
    const value = read(test.ciphertext.filename).toString("base64");
    const refused = decryptFleField(value, fleKey);
    await expect(refused).rejects.toBeInstanceOf(FleDecryptError);
    await expect(refused).rejects.toMatchObject({ reason: fleVerdict(test), status: 400 });
  });

  // CloudFront's shape but for the padding: suite 0x0178, one data key, RSA-wrapped.
  const cloudFrontShaped = cases.filter(
    ([, test]) =>
      fleVerdict(test) === "undecryptable" &&
      test.master_keys.length === 1 &&
      theKey(test).encryption_algorithm === "RSA",
  );

  it("covers the CloudFront-shaped vectors: no context at every frame length, and with contexts", () => {
    expect(cloudFrontShaped.length).toBeGreaterThanOrEqual(8);
  });

  it.each(cloudFrontShaped)(
    "%s decrypts with Veil's FLE client options once the keyring uses the vector's OAEP-SHA1",
    async (_, test) => {
      // The refusal above is the padding alone: Veil's FLE client (non-committing decrypt, one data
      // key, CloudFront's field limit as body bound) reads the message, header and frames.
      const veilOptions = buildDecrypt({
        commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT,
        maxEncryptedDataKeys: 1,
      });
      const { plaintext, messageHeader } = await veilOptions.decrypt(
        keyringFor(test),
        read(test.ciphertext.filename),
        { maxBodySize: fleLimits.maxFieldBytes },
      );
      expect(Buffer.compare(plaintext, read(test.plaintext.filename))).toBe(0);
      expect(messageHeader.encryptedDataKeys[0]).toMatchObject({
        providerId: fleKey.providerId,
        providerInfo: fleKey.keyName,
      });
    },
  );
});
