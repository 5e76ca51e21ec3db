/**
 * The stack the local benchmark drives: a fresh one (a real PostgreSQL, ephemeral ports) or the running
 * `pnpm dev` stack; its signed-up users; and the cold burst of first creates.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startTestPostgres, type TestPostgres } from "../packages/db/src/testing/postgres.ts";
import {
  createApiClient,
  createSessionKeys,
  exportSessionKeys,
  importSessionKeys,
} from "../packages/local/src/client/index.ts";
import { signUpAndSignIn } from "../packages/local/src/cognito/client.ts";
import { ephemeralPorts, type LocalStackInfo } from "../packages/local/src/stack/config.ts";
import { type LocalStack, startLocalStack } from "../packages/local/src/stack/start.ts";
import { type LoadUser, recordForm } from "./_load-client.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * The fresh stack applies prod's settings (infra/stage.ts), the highest usage plan of any stage, and
 * the users together start no more requests than its rate, so the stack is measured at the rate prod
 * admits instead of answering a storm of 429s. `--unpaced` drops the pacing.
 */
export const benchStageSettings = "prod" as const;

export interface Target {
  readonly info: Pick<LocalStackInfo, "edgeUrl" | "cognito" | "logDir" | "stageSettings">;
  readonly stack?: LocalStack;
  stop(): Promise<void>;
}

export async function freshStack(log: (m: string) => void): Promise<Target> {
  log("starting PostgreSQL and a fresh local stack on ephemeral ports…");
  const pg: TestPostgres = await startTestPostgres();
  const stateDir = mkdtempSync(join(tmpdir(), "veil-bench-stack-"));
  let stack: LocalStack | undefined;
  try {
    stack = await startLocalStack({
      stateDir,
      ports: ephemeralPorts,
      databaseUrl: pg.connectionString,
      webRoot: stateDir,
      stageSettings: benchStageSettings,
    });
  } catch (err) {
    await pg.stop();
    rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
  const running = stack;
  return {
    info: running.info,
    stack: running,
    async stop() {
      await running.stop();
      await pg.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

export function devStack(): Target {
  const info = JSON.parse(readFileSync(join(root, ".veil", "local.json"), "utf8")) as LocalStackInfo;
  return { info, stop: async () => {} };
}

export async function signUpUsers(target: Target, count: number): Promise<LoadUser[]> {
  const tag = randomBytes(4).toString("hex");
  const users: LoadUser[] = [];
  for (let i = 0; i < count; i++) {
    const tokens = await signUpAndSignIn(target.info.cognito.endpoint, target.info.cognito.clientId, {
      email: `load-${tag}-${i}@users.example.net`,
      password: `Pw-${randomBytes(9).toString("base64url")}-1a`,
    });
    // Extractable, so the load process can prove with the key these first calls bind to the session.
    const keys = await exportSessionKeys(await createSessionKeys({ extractable: true }));
    users.push({ token: tokens.accessToken, records: [], keys });
  }
  return users;
}

const clients = new WeakMap<LoadUser, ReturnType<typeof createApiClient>>();
/** The API client of a user's session, with the keys the load process gets too. */
function clientOf(user: LoadUser) {
  let client = clients.get(user);
  if (!client) {
    client = createApiClient({ keys: importSessionKeys(user.keys) });
    clients.set(user, client);
  }
  return client;
}

/** One create per entry, all at once: the first writes of a cold function. */
export async function burstOfCreates(edgeUrl: string, users: LoadUser[], count: number): Promise<number> {
  let failed = 0;
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const user = users[i % users.length]!;
      const create = () =>
        clientOf(user)
          .fetch(`${edgeUrl}/api/records`, {
            method: "POST",
            token: user.token,
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: recordForm(i),
          })
          .catch(() => undefined);
      let res = await create();
      // A burst above the stage's usage plan (dev's, with --against-dev) is asked again, as a client would.
      for (let tries = 0; res?.status === 429 && tries < 20; tries++) {
        await res.body?.cancel();
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 50));
        res = await create();
      }
      if (res?.status !== 201) {
        failed++;
        await res?.body?.cancel();
        return;
      }
      const { id, version } = (await res.json()) as { id: string; version: number };
      user.records.push({ id, version });
    }),
  );
  return failed;
}
