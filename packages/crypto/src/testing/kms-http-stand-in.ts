/**
 * Serves a `KmsStandIn` over HTTP with the KMS JSON protocol (`X-Amz-Target: TrentService.<Op>`), so
 * tests can drive the real AWS SDK client and the Encryption SDK keyring over the wire. Listens on an
 * ephemeral port of 127.0.0.1; does not check signatures.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { KmsStandIn } from "./kms-stand-in.ts";

export interface KmsHttpStandIn {
  /** e.g. `http://127.0.0.1:41234` — pass as `kms.endpoint`. */
  readonly endpoint: string;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

const b64 = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes).toString("base64") : undefined);
const bytes = (value: unknown) =>
  typeof value === "string" ? new Uint8Array(Buffer.from(value, "base64")) : new Uint8Array();

async function readJson(req: IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? (JSON.parse(text) as Json) : {};
}

async function dispatch(kms: KmsStandIn, target: string, input: Json): Promise<Json> {
  const context = input.EncryptionContext as Record<string, string> | undefined;
  switch (target) {
    case "TrentService.GenerateDataKey": {
      const out = await kms.client.generateDataKey({
        KeyId: String(input.KeyId),
        NumberOfBytes: input.NumberOfBytes as number | undefined,
        EncryptionContext: context,
      });
      return { KeyId: out.KeyId, Plaintext: b64(out.Plaintext), CiphertextBlob: b64(out.CiphertextBlob) };
    }
    case "TrentService.Encrypt": {
      const out = await kms.client.encrypt({
        KeyId: String(input.KeyId),
        Plaintext: bytes(input.Plaintext),
        EncryptionContext: context,
      });
      return { KeyId: out.KeyId, CiphertextBlob: b64(out.CiphertextBlob) };
    }
    case "TrentService.Decrypt": {
      const out = await kms.client.decrypt({
        KeyId: input.KeyId as string | undefined,
        CiphertextBlob: bytes(input.CiphertextBlob),
        EncryptionContext: context,
      });
      return { KeyId: out.KeyId, Plaintext: b64(out.Plaintext) };
    }
    default:
      throw Object.assign(new Error("unsupported operation"), { name: "UnknownOperationException" });
  }
}

/** Starts the server; `close()` it in `afterAll`. */
export async function startKmsHttpStandIn(kms: KmsStandIn): Promise<KmsHttpStandIn> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const reply = (status: number, body: Json) => {
      res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
      res.end(JSON.stringify(body));
    };
    readJson(req)
      .then((input) => dispatch(kms, String(req.headers["x-amz-target"] ?? ""), input))
      .then(
        (out) => reply(200, out),
        (err: { name?: string; message?: string; $fault?: string }) =>
          reply(err.$fault === "client" || err.name?.endsWith("Exception") ? 400 : 500, {
            __type: err.name ?? "InternalFailure",
            message: err.message ?? "",
          }),
      );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
