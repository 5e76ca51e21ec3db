import { createHash, randomBytes } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import type { RecordContext } from "./context.ts";
import { createEnvelopeCrypto } from "./envelope-streams.ts";
import { CiphertextError, ContextMismatchError } from "./errors.ts";
import { createKmsStandIn } from "./testing/kms-stand-in.ts";

// A collector to measure live memory rather than garbage not yet collected.
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

const ctx: RecordContext = { ownerId: "owner-1", recordId: "img-1", purpose: "image" };

function setup() {
  const kms = createKmsStandIn();
  const envelope = createEnvelopeCrypto({
    app: "veil",
    stage: "test",
    kms: { keyId: kms.keyArn, clientProvider: kms.clientProvider },
  });
  return { kms, envelope };
}

/**
 * `total` bytes in `chunk`-sized pieces, generated lazily, each after a turn of the event loop as from
 * a socket or a file (the direct writer and reader never yield themselves, so a synchronous source
 * would starve the memory sampler); hashes what it produced.
 */
function generated(total: number, chunk = 64 * 1024) {
  const base = randomBytes(chunk);
  const hash = createHash("sha256");
  let sent = 0;
  const source = new Readable({
    read() {
      setImmediate(() => {
        if (sent >= total) return void this.push(null);
        const piece = Buffer.from(base.subarray(0, Math.min(chunk, total - sent)));
        piece.writeUInt32BE(sent / chunk, 0);
        sent += piece.length;
        hash.update(piece);
        this.push(piece);
      });
    },
  });
  return { source, digest: () => hash.digest("hex") };
}

function hashing() {
  const hash = createHash("sha256");
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      hash.update(chunk);
      done();
    },
  });
  return { sink, digest: () => hash.digest("hex"), bytes: () => bytes };
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe("streaming encryption", () => {
  it("50 MB round trip in bounded memory", { timeout: 60_000 }, async () => {
    const { envelope } = setup();
    const total = 50 * 1024 * 1024;
    const input = generated(total);
    const output = hashing();
    collectGarbage();
    const before = process.memoryUsage();
    let peakRss = before.rss;
    let peakBuffers = before.arrayBuffers;
    let peakLiveBuffers = before.arrayBuffers;
    let ticks = 0;
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      peakRss = Math.max(peakRss, now.rss);
      peakBuffers = Math.max(peakBuffers, now.arrayBuffers);
      if (++ticks % 3 === 0) {
        collectGarbage();
        peakLiveBuffers = Math.max(peakLiveBuffers, process.memoryUsage().arrayBuffers);
      }
    }, 5);
    const started = performance.now();
    try {
      await pipeline(envelope.decryptStream(envelope.encryptStream(input.source, ctx), ctx), output.sink);
    } finally {
      clearInterval(sampler);
    }
    const seconds = (performance.now() - started) / 1000;
    expect(output.bytes()).toBe(total);
    expect(output.digest()).toBe(input.digest());
    const mib = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;
    console.log(
      `50 MiB encrypt+decrypt stream: ${seconds.toFixed(2)} s, peak RSS +${mib(peakRss - before.rss)} MiB, ` +
        `peak buffers +${mib(peakBuffers - before.arrayBuffers)} MiB, ` +
        `peak live buffers +${mib(peakLiveBuffers - before.arrayBuffers)} MiB (${Math.floor(ticks / 3)} samples)`,
    );
    // Buffering the plaintext or the ciphertext would keep ≥ 50 MiB alive; a few frames is the bound.
    expect(ticks).toBeGreaterThanOrEqual(6);
    expect(peakLiveBuffers - before.arrayBuffers).toBeLessThan(16 * 1024 * 1024);
  });

  it("a stream message is a regular message: decryptBytes reads it; each stream has its own data key", async () => {
    const { envelope, kms } = setup();
    const plaintext = randomBytes(200_000);
    const a = await collect(envelope.encryptStream(Readable.from([plaintext]), ctx));
    const b = await collect(envelope.encryptStream(Readable.from([plaintext]), ctx));
    expect(Buffer.from(await envelope.decryptBytes(a, ctx)).equals(plaintext)).toBe(true);
    expect(kms.calls.generateDataKey).toBe(2);
    expect((await collect(envelope.decryptStream(Readable.from([b]), ctx))).equals(plaintext)).toBe(true);
  });

  it("a tampered stream fails with CiphertextError", async () => {
    const { envelope } = setup();
    const ciphertext = await collect(envelope.encryptStream(Readable.from([randomBytes(300_000)]), ctx));
    ciphertext[ciphertext.length - 5_000]! ^= 1;
    const err = await collect(envelope.decryptStream(Readable.from([ciphertext]), ctx)).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CiphertextError);
  });

  it("a truncated stream fails with CiphertextError", async () => {
    const { envelope } = setup();
    const ciphertext = await collect(envelope.encryptStream(Readable.from([randomBytes(300_000)]), ctx));
    const err = await collect(
      envelope.decryptStream(Readable.from([ciphertext.subarray(0, 150_000)]), ctx),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CiphertextError);
  });

  it("another record's context fails with ContextMismatchError before any plaintext", async () => {
    const { envelope } = setup();
    const ciphertext = await collect(envelope.encryptStream(Readable.from([randomBytes(100_000)]), ctx));
    const out = envelope.decryptStream(Readable.from([ciphertext]), { ...ctx, recordId: "img-2" });
    let received = 0;
    out.on("data", (c: Buffer) => {
      received += c.length;
    });
    const err = await new Promise((resolve) => out.on("error", resolve));
    expect(err).toBeInstanceOf(ContextMismatchError);
    expect(received).toBe(0);
  });

  it("a signed-suite stream still reads (through the SDK's stream), with any configured suite", async () => {
    const { kms } = setup();
    const options = {
      app: "veil",
      stage: "test",
      kms: { keyId: kms.keyArn, clientProvider: kms.clientProvider },
    };
    const signed = createEnvelopeCrypto({ ...options, suite: "signed" });
    const unsigned = createEnvelopeCrypto(options);
    const plaintext = randomBytes(150_000);
    const ciphertext = await collect(signed.encryptStream(Readable.from([plaintext]), ctx));
    expect(ciphertext.readUInt16BE(1)).toBe(0x0578);
    for (const envelope of [signed, unsigned]) {
      const chunks = [
        ciphertext.subarray(0, 10),
        ciphertext.subarray(10, 70_000),
        ciphertext.subarray(70_000),
      ];
      expect((await collect(envelope.decryptStream(Readable.from(chunks), ctx))).equals(plaintext)).toBe(
        true,
      );
    }
    ciphertext[ciphertext.length - 5_000]! ^= 1;
    const err = await collect(unsigned.decryptStream(Readable.from([ciphertext]), ctx)).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CiphertextError);
    const other = await collect(
      unsigned.decryptStream(Readable.from([ciphertext]), { ...ctx, recordId: "img-2" }),
    ).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(ContextMismatchError);
  });

  it("a failing source fails the output", async () => {
    const { envelope } = setup();
    const source = new Readable({
      read() {
        this.destroy(new Error("disk gone"));
      },
    });
    const err = await collect(envelope.encryptStream(source, ctx)).catch((e: unknown) => e);
    expect((err as Error).name).toBe("EncryptError");
    const failing = new Readable({
      read() {
        this.destroy(new Error("disk gone"));
      },
    });
    const read = await collect(envelope.decryptStream(failing, ctx)).catch((e: unknown) => e);
    expect(read).toBeInstanceOf(CiphertextError);
  });
});
