import { createHash, createHmac } from "node:crypto";

type Source = string | ArrayBuffer | ArrayBufferView;

const bytes = (d: Source) =>
  typeof d === "string"
    ? d
    : d instanceof ArrayBuffer
      ? new Uint8Array(d)
      : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

/**
 * node:crypto SHA-256 / HMAC-SHA-256 in the shape `@smithy/signature-v4` wants, so tests can sign with
 * the SDK's signer as an independent oracle.
 */
export class NodeSha256 {
  private hash;
  constructor(private readonly secret?: Source) {
    this.hash = this.fresh();
  }
  private fresh() {
    return this.secret === undefined ? createHash("sha256") : createHmac("sha256", bytes(this.secret));
  }
  update(data: Source) {
    this.hash.update(bytes(data));
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
  reset() {
    this.hash = this.fresh();
  }
}
