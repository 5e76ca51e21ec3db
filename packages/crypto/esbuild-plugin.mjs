/**
 * esbuild plugin that swaps five modules of the AWS Encryption SDK for the drop-in replacements in
 * `src/sdk-modules/` (same exports, same results; each tested against the original). The originals
 * pull `bn.js` (twice: v5, and v4 through `asn1.js`) and `asn1.js` into every bundle — ~117 KB
 * minified, plus two Montgomery contexts built at import — for big-number work the signed suites
 * need once per message and the frame AAD needs as one 64-bit integer.
 *
 *   @aws-crypto/material-management  ecc_decode, ecc_encode (compressed EC points), pem_helpers (EC key PEM)
 *   @aws-crypto/serialize            aad_factory (frame AAD), decode_body_header (frame headers)
 *
 * The replacements were checked against one SDK version; any other version fails the build rather
 * than being swapped unchecked.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** The SDK version the replacements are tested against (`src/sdk-modules/*.test.ts`). */
export const verifiedSdkVersion = "5.0.2";

/** SDK package → its module name → replacement file. */
export const sdkModuleReplacements = Object.freeze({
  "@aws-crypto/material-management": Object.freeze({
    ecc_decode: "ecc-decode.ts",
    ecc_encode: "ecc-encode.ts",
    pem_helpers: "pem-helpers.ts",
  }),
  "@aws-crypto/serialize": Object.freeze({
    aad_factory: "aad-factory.ts",
    decode_body_header: "decode-body-header.ts",
  }),
});

const importerRe =
  /^(.*[\\/]node_modules[\\/](@aws-crypto[\\/](?:material-management|serialize)))[\\/]build[\\/](?:main|module)[\\/]src[\\/][^\\/]+$/;

const versions = new Map();

function versionOf(packageDir) {
  let version = versions.get(packageDir);
  if (version === undefined) {
    version = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")).version;
    versions.set(packageDir, version);
  }
  return version;
}

/** The plugin. `replacementsDir` defaults to this package's `src/sdk-modules`. */
export function slimEncryptionSdk({ replacementsDir = join(here, "src", "sdk-modules") } = {}) {
  return {
    name: "veil-slim-encryption-sdk",
    setup(build) {
      build.onResolve(
        { filter: /^\.\/(ecc_decode|ecc_encode|pem_helpers|aad_factory|decode_body_header)(\.js)?$/ },
        (args) => {
          const importer = args.importer.match(importerRe);
          if (!importer) return undefined;
          const [, packageDir, packageName] = importer;
          const name = args.path.replace(/^\.\//, "").replace(/\.js$/, "");
          const file = sdkModuleReplacements[packageName.replace("\\", "/")]?.[name];
          if (!file) return undefined;
          const version = versionOf(packageDir);
          if (version !== verifiedSdkVersion) {
            return {
              errors: [
                {
                  text: `${packageName}@${version}: its ${name} replacement was verified against ${verifiedSdkVersion}; re-run the sdk-modules tests against the new version and update verifiedSdkVersion`,
                },
              ],
            };
          }
          return { path: join(replacementsDir, file) };
        },
      );
    },
  };
}
