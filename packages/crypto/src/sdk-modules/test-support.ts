/**
 * The original SDK modules the replacements stand in for, loaded from the SDK's CommonJS build (its
 * ES build uses extension-less imports that only bundlers resolve) — the oracles of the tests.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const fromNodeMaterials = createRequire(require.resolve("@aws-crypto/material-management-node"));

function sdkModule<T>(load: NodeJS.Require, pkg: string, name: string): T {
  return load(`${pkg}/build/main/src/${name}.js`) as T;
}

type Curves = Readonly<Record<string, (bytes: Uint8Array) => Uint8Array>>;

export const original = {
  eccDecode: sdkModule<{ decodeNamedCurves: Curves }>(
    fromNodeMaterials,
    "@aws-crypto/material-management",
    "ecc_decode",
  ),
  eccEncode: sdkModule<{ encodeNamedCurves: Curves }>(
    fromNodeMaterials,
    "@aws-crypto/material-management",
    "ecc_encode",
  ),
  pemHelpers: sdkModule<typeof import("./pem-helpers.ts")>(
    fromNodeMaterials,
    "@aws-crypto/material-management",
    "pem_helpers",
  ),
  aadFactory: sdkModule<typeof import("./aad-factory.ts")>(require, "@aws-crypto/serialize", "aad_factory"),
  decodeBodyHeader: sdkModule<typeof import("./decode-body-header.ts")>(
    require,
    "@aws-crypto/serialize",
    "decode_body_header",
  ),
  /** The package versions the originals come from (the plugin pins the replacements to one). */
  versions: {
    materialManagement: (
      fromNodeMaterials("@aws-crypto/material-management/package.json") as { version: string }
    ).version,
    serialize: (require("@aws-crypto/serialize/package.json") as { version: string }).version,
  },
};

/** What a call returned, or the message it threw — to compare two implementations call for call. */
export function outcome<T>(call: () => T): { value: T } | { threw: string } {
  try {
    return { value: call() };
  } catch (err) {
    return { threw: err instanceof Error ? err.message : String(err) };
  }
}
