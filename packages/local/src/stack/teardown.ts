import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { join } from "node:path";

/** What the stack has started so far, stopped in reverse order; and its JSON-lines component logs. */
export interface Teardown {
  /** Registers how to stop a started component. */
  add(stop: () => Promise<void>): void;
  /** A JSON-lines log `<logDir>/<name>.log`, closed by `stopAll`. */
  logTo(name: string): (entry: Record<string, unknown>) => void;
  /** Stops everything started, newest first, ignoring failures, then closes the logs. */
  stopAll(): Promise<void>;
}

/**
 * Creates the teardown of one stack, so a failed start stops what it had started.
 *
 * @example
 * const teardown = createTeardown(paths.logDir);
 * teardown.add(() => kms.stop());
 */
export function createTeardown(
  logDir: string,
  beforeLogsClose: () => Promise<void> = async () => {},
): Teardown {
  mkdirSync(logDir, { recursive: true });
  const stops: Array<() => Promise<void>> = [];
  const logs: WriteStream[] = [];
  return {
    add: (stop) => {
      stops.push(stop);
    },
    logTo(name) {
      const stream = createWriteStream(join(logDir, `${name}.log`), { flags: "a" });
      logs.push(stream);
      return (entry) => stream.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
    },
    async stopAll() {
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
      stops.length = 0;
      await beforeLogsClose();
      await Promise.all(logs.map((l) => new Promise<void>((r) => l.end(r))));
    },
  };
}
