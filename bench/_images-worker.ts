/**
 * The process `images.ts` measures: one image ingest's data path (`moveUpload`, as the ingest function
 * runs it) and nothing else — so its RSS is the ingest's —, then the stored image streamed back as a
 * download reads it (S3 GET → envelope decrypt stream). Reads its job from `VEIL_BENCH_JOB` (JSON),
 * prints one JSON line of figures. Run with `--expose-gc`.
 */
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { moveUpload } from "../functions/src/images-ingest/ingest-pipeline.ts";
import { createEnvelopeCrypto } from "../packages/crypto/src/index.ts";
import { createKmsStandIn } from "../packages/crypto/src/testing/index.ts";
import { createObjectStore, imageEnvelopeContext, type ObjectStore } from "../packages/storage/src/index.ts";

interface Job {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  key: { providerId: string; keyName: string; privateKeyPem: string };
  ownerId: string;
  recordId: string;
  uploads: { warm: { imageId: string; key: string }; big: { imageId: string; key: string; bytes: number } };
}

const job = JSON.parse(process.env.VEIL_BENCH_JOB ?? "{}") as Job;
const kms = createKmsStandIn();
const envelope = createEnvelopeCrypto({
  app: "veil",
  stage: "bench",
  kms: { keyId: kms.keyArn, clientProvider: kms.clientProvider },
});
const s3 = createObjectStore({ region: job.region, endpoint: job.endpoint, credentials: job.credentials });
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

const idsOf = (upload: { imageId: string }) => ({
  ownerId: job.ownerId,
  recordId: job.recordId,
  imageId: upload.imageId,
});
const storedAt = (upload: { imageId: string }) => ({
  bucket: "images",
  key: `images/${job.ownerId}/${job.recordId}/${upload.imageId}`,
});

function run(store: ObjectStore, upload: { imageId: string; key: string }, max: number) {
  const ids = idsOf(upload);
  return moveUpload(
    { store, envelope, keys: [job.key] },
    {
      inbox: { bucket: "inbox", key: upload.key },
      target: storedAt(upload),
      ids,
      declaredType: "image/jpeg",
      maxPlaintextBytes: max,
    },
  );
}

/** A store whose objects are the bytes already read from S3, and whose writes go nowhere. */
async function memoryStore(upload: { key: string }): Promise<ObjectStore> {
  const chunks: Buffer[] = [];
  for await (const c of (await s3.open({ bucket: "inbox", key: upload.key })).body) chunks.push(c as Buffer);
  return {
    ...s3,
    open: async () => ({
      body: Readable.from(chunks),
      contentLength: undefined,
      versionId: undefined,
      eTag: undefined,
    }),
    upload: async (_at, body) => {
      let size = 0;
      await new Promise<void>((resolve, reject) =>
        body
          .pipe(
            new Writable({
              write(chunk: Buffer, _e, done) {
                size += chunk.length;
                done();
              },
            }),
          )
          .on("finish", resolve)
          .on("error", reject),
      );
      return { versionId: undefined, eTag: undefined, size };
    },
  } as ObjectStore;
}

const max = job.uploads.big.bytes + 1024;
await run(s3, job.uploads.warm, max); // loads and compiles every stage
gc();
await new Promise((r) => setTimeout(r, 100));
gc();
const baseline = process.memoryUsage().rss;
let peak = baseline;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 5);
const t0 = performance.now();
const { sanitizer } = await run(s3, job.uploads.big, max);
const seconds = (performance.now() - t0) / 1000;
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage().rss);

// The stored image read back as the download streams it: S3 GET → envelope decrypt, bytes discarded.
const t2 = performance.now();
let downloaded = 0;
const object = await s3.open(storedAt(job.uploads.big));
await pipeline(
  envelope.decryptStream(object.body, imageEnvelopeContext(idsOf(job.uploads.big))),
  new Writable({
    write(chunk: Buffer, _e, done) {
      downloaded += chunk.length;
      done();
    },
  }),
);
const streamSeconds = (performance.now() - t2) / 1000;

// The same data path without S3 (bytes from memory, output discarded): what the CPU alone allows.
const mem = await memoryStore(job.uploads.big);
await run(mem, job.uploads.big, max);
const t1 = performance.now();
await run(mem, job.uploads.big, max);
const cpuSeconds = (performance.now() - t1) / 1000;

process.stdout.write(
  `${JSON.stringify({ seconds, cpuSeconds, streamSeconds, downloaded, bytes: job.uploads.big.bytes, stored: sanitizer.bytesOut, baseline, peak })}\n`,
);
