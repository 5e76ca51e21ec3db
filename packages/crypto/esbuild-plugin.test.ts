/**
 * The plugin end to end: a bundle built with it has no bn.js or asn1.js, and the signed suite (the one
 * that needs the swapped point codec and PEM helpers) still works inside it — messages and streams
 * written by the unbundled SDK modules decrypt in the bundle and the other way round, and a broken
 * signature is still refused. Also: an SDK version the replacements were not checked against fails
 * the build.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { RawRsaKeyringNode } from "@aws-crypto/raw-rsa-keyring-node";
import { build, type Metafile } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { slimEncryptionSdk, verifiedSdkVersion } from "./esbuild-plugin.mjs";
import type { RecordContext } from "./src/context.ts";
import { createEnvelopeCrypto } from "./src/envelope-streams.ts";
import { original } from "./src/sdk-modules/test-support.ts";
import { generateFleKeyPair } from "./src/testing/keys.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "veil-sdk-plugin-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ctx: RecordContext = { ownerId: "owner-1", recordId: "rec-1", purpose: "record.sensitive" };
const keys = generateFleKeyPair();
const streamPlaintext = Buffer.alloc(200_000, 7);

/** The same envelope inside and outside the bundle: signed suite, one raw RSA key, no cache. */
const envelopeSource = `
  const keyring = new RawRsaKeyringNode({
    keyNamespace: "veil-test",
    keyName: "plugin-test",
    rsaKey: { privateKey: keys.privateKeyPem, publicKey: keys.publicKeyPem },
    oaepHash: "sha256",
  });
  const signed = createEnvelopeCrypto({ app: "veil", stage: "test", kms: { keyring }, suite: "signed", cache: false });
`;

function signedEnvelope() {
  const keyring = new RawRsaKeyringNode({
    keyNamespace: "veil-test",
    keyName: "plugin-test",
    rsaKey: { privateKey: keys.privateKeyPem, publicKey: keys.publicKeyPem },
    oaepHash: "sha256",
  });
  return createEnvelopeCrypto({
    app: "veil",
    stage: "test",
    kms: { keyring },
    suite: "signed",
    cache: false,
  });
}

const entry = `
  import { readFileSync } from "node:fs";
  import { Readable } from "node:stream";
  import { RawRsaKeyringNode } from "@aws-crypto/raw-rsa-keyring-node";
  import { createEnvelopeCrypto } from "./src/envelope-streams.ts";

  const input = JSON.parse(readFileSync(0, "utf8"));
  const { keys, ctx } = input;
  ${envelopeSource}
  const bytes = (b64) => Buffer.from(b64, "base64");
  const collect = async (stream) => Buffer.concat(await stream.toArray());
  const outcome = (promise) => promise.then(() => "accepted", (err) => err.constructor.name + ":" + err.reason);
  const result = {
    decrypted: Buffer.from(await signed.decryptBytes(bytes(input.message), ctx)).toString("utf8"),
    streamDecrypted: (await collect(signed.decryptStream(Readable.from([bytes(input.stream)]), ctx))).toString("base64"),
    tampered: await outcome(signed.decryptBytes(bytes(input.tampered), ctx)),
    message: Buffer.from(await signed.encryptBytes(Buffer.from("from the bundle"), ctx)).toString("base64"),
    stream: (await collect(signed.encryptStream(Readable.from([bytes(input.streamPlaintext)]), ctx))).toString("base64"),
  };
  process.stdout.write(JSON.stringify(result));
`;

async function bundle(name: string, plugins: ReturnType<typeof slimEncryptionSdk>[]) {
  const outfile = join(dir, name, "index.mjs");
  const result = await build({
    stdin: { contents: entry, resolveDir: here, sourcefile: "entry.ts", loader: "ts" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    mainFields: ["module", "main"],
    minify: true,
    keepNames: true,
    outfile,
    metafile: true,
    logLevel: "silent",
    plugins,
    banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
  });
  return { outfile, metafile: result.metafile };
}

/** Input files that put bytes into the output, matching `pattern`. */
function bundled(metafile: Metafile, pattern: RegExp): string[] {
  return Object.values(metafile.outputs).flatMap((output) =>
    Object.entries(output.inputs)
      .filter(([file, { bytesInOutput }]) => bytesInOutput > 0 && pattern.test(file))
      .map(([file]) => file),
  );
}

describe("slimEncryptionSdk", () => {
  let slim: Awaited<ReturnType<typeof bundle>>;
  beforeAll(async () => {
    slim = await bundle("slim", [slimEncryptionSdk()]);
  }, 60_000);

  it("leaves bn.js and asn1.js out and puts the replacements in", async () => {
    expect(bundled(slim.metafile, /node_modules\/(bn\.js|asn1\.js)\//)).toEqual([]);
    const replacements = bundled(slim.metafile, /src\/sdk-modules\/[a-z-]+\.ts$/).map((f) =>
      f.split("/").pop(),
    );
    expect(replacements.sort()).toEqual([
      "aad-factory.ts",
      "decode-body-header.ts",
      "ecc-decode.ts",
      "ecc-encode.ts",
      "needs.ts",
      "pem-helpers.ts",
    ]);
    // The control: without the plugin the same entry carries both.
    const stock = await bundle("stock", []);
    expect(bundled(stock.metafile, /node_modules\/bn\.js\//).length).toBeGreaterThan(0);
    expect(bundled(stock.metafile, /node_modules\/asn1\.js\//).length).toBeGreaterThan(0);
  }, 60_000);

  it("the signed suite works in the bundle, both ways against the unbundled SDK modules", async () => {
    const outside = signedEnvelope();
    const message = Buffer.from(await outside.encryptBytes(Buffer.from("from outside"), ctx));
    const stream = Buffer.concat(
      await outside.encryptStream(Readable.from([streamPlaintext]), ctx).toArray(),
    );
    const tampered = Buffer.from(message);
    tampered[tampered.length - 1]! ^= 1; // the last byte of the ECDSA signature
    const stdout = execFileSync(process.execPath, [slim.outfile], {
      input: JSON.stringify({
        keys,
        ctx,
        message: message.toString("base64"),
        stream: stream.toString("base64"),
        tampered: tampered.toString("base64"),
        streamPlaintext: streamPlaintext.toString("base64"),
      }),
      encoding: "utf8",
    });
    const result = JSON.parse(stdout) as Record<string, string>;
    expect(result.decrypted).toBe("from outside");
    expect(Buffer.from(result.streamDecrypted!, "base64").equals(streamPlaintext)).toBe(true);
    expect(result.tampered).toBe("CiphertextError:tampered");

    const fromBundle = Buffer.from(result.message!, "base64");
    expect(Buffer.from(await outside.decryptBytes(fromBundle, ctx)).toString()).toBe("from the bundle");
    const streamFromBundle = Readable.from([Buffer.from(result.stream!, "base64")]);
    expect(
      Buffer.concat(await outside.decryptStream(streamFromBundle, ctx).toArray()).equals(streamPlaintext),
    ).toBe(true);
  }, 60_000);

  it("is pinned to the SDK version the replacements were tested against", async () => {
    expect(original.versions.materialManagement).toBe(verifiedSdkVersion);
    expect(original.versions.serialize).toBe(verifiedSdkVersion);
    // A fake @aws-crypto/serialize of another version: the build must fail, not swap unchecked.
    const fake = join(dir, "fake", "node_modules", "@aws-crypto", "serialize");
    mkdirSync(join(fake, "build", "module", "src"), { recursive: true });
    writeFileSync(
      join(fake, "package.json"),
      JSON.stringify({
        name: "@aws-crypto/serialize",
        version: "9.9.9",
        module: "./build/module/src/index.js",
      }),
    );
    writeFileSync(join(fake, "build", "module", "src", "index.js"), "export * from './aad_factory';\n");
    writeFileSync(join(fake, "build", "module", "src", "aad_factory.js"), "export const aadFactory = 1;\n");
    const failed = build({
      stdin: {
        contents: 'import { aadFactory } from "@aws-crypto/serialize"; console.log(aadFactory);',
        resolveDir: join(dir, "fake"),
      },
      bundle: true,
      write: false,
      logLevel: "silent",
      plugins: [slimEncryptionSdk()],
    });
    await expect(failed).rejects.toThrow(/serialize@9\.9\.9.*verified against/);
  }, 60_000);
});
