import { mkdir, rename, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { StageName } from "./stage.ts";

/**
 * `.veil/local.json`: how outside tools find the running local stack. Field names are a public
 * contract: add fields, never rename or remove them.
 */
export interface LocalStackInfo {
  readonly edgeUrl: string;
  readonly gatewayUrl: string;
  readonly gatewayApiKey: string;
  readonly kmsEndpoint: string;
  readonly s3Endpoint: string | null;
  readonly secretsEndpoint: string;
  readonly cognito: {
    readonly endpoint: string;
    readonly region: string;
    readonly userPoolId: string;
    readonly clientId: string;
  };
  readonly databaseUrl: string;
  readonly stateDir: string;
  readonly logDir: string;
  readonly region: string;
  readonly stage: string;
  /** The stage whose settings (usage-plan throttle) the stack applies: `dev` unless told otherwise. */
  readonly stageSettings?: StageName;
  readonly pid: number;
}

/** Default ports of `pnpm dev`; tests use ephemeral ports instead. */
export const defaultPorts = {
  edge: 4510,
  gateway: 4511,
  kms: 4512,
  cognito: 4513,
  database: 4514,
  secrets: 4515,
  s3: 4516,
} as const;

export type PortMap = { [K in keyof typeof defaultPorts]: number };

/** Every port 0 (the OS picks): for tests running stacks side by side. */
export const ephemeralPorts: PortMap = {
  edge: 0,
  gateway: 0,
  kms: 0,
  cognito: 0,
  database: 0,
  secrets: 0,
  s3: 0,
};

/** The folders of one local stack. */
export function stackPaths(stateDir: string) {
  const root = resolve(stateDir);
  return {
    stateDir: root,
    logDir: join(root, "logs"),
    pgDir: join(root, "pg"),
    kmsDir: join(root, "kms"),
    cognitoDir: join(root, "cognito"),
    secretsDir: join(root, "secrets"),
    s3Dir: join(root, "s3"),
    identityFile: join(root, "identities.json"),
    infoFile: join(root, "local.json"),
  };
}

/** Writes `local.json` atomically, so a reader never sees half a file. */
export async function writeStackInfo(file: string, info: LocalStackInfo): Promise<void> {
  await mkdir(resolve(file, ".."), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
}
