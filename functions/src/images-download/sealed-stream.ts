/**
 * Pumps plaintext through the sealing stream into the response. The Encryption SDK's stream is never
 * destroyed: destroyed mid-message, its inner streams report an error no listener can catch. On a
 * failure it is ended and drained instead (nothing more reaches the response), and the caller aborts
 * the response.
 */
import { once } from "node:events";
import type { Duplex, Writable } from "node:stream";

/**
 * Writes `first` and the rest of `plaintext` into `sealing` and its output into `out`. Resolves when
 * the whole message is in `out`; rejects on the first failure of the plaintext, the sealing or `out`.
 */
export function sealInto(
  first: IteratorResult<Buffer>,
  plaintext: AsyncIterator<Buffer>,
  sealing: Duplex,
  out: Writable,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      sealing.off("data", forward);
      sealing.on("data", () => undefined);
      sealing.resume();
      reject(err);
    };
    const forward = (chunk: Buffer) => {
      if (out.write(chunk)) return;
      sealing.pause();
      out.once("drain", () => sealing.resume());
    };
    sealing.on("data", forward);
    sealing.on("error", fail);
    sealing.on("end", () => {
      if (!failed) resolve();
    });
    out.on("error", fail);
    out.on("close", () => {
      if (!out.writableFinished) fail(new Error("client went away"));
    });
    const feed = async () => {
      for (let next = first; !next.done && !failed; next = await plaintext.next()) {
        if (!sealing.write(next.value)) await once(sealing, "drain");
      }
    };
    feed()
      .catch(fail)
      .finally(() => sealing.end());
  });
}
