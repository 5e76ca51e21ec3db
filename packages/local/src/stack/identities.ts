import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";

/** An IAM principal of the local account: an access key pair and the role ARN it stands for. */
export interface LocalPrincipal {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly arn: string;
}

/**
 * The local account's identities and secrets, generated on first start and kept in the state folder
 * (never in the repo): the function role, the edge role, a developer, the API key and the FLE key pair.
 */
export interface LocalIdentities {
  readonly accountId: string;
  readonly functionRole: LocalPrincipal;
  readonly edgeRole: LocalPrincipal;
  readonly adminRole: LocalPrincipal;
  readonly developer: LocalPrincipal;
  readonly apiKeys: string[];
  /** ARN of the records key in the local KMS, once created. */
  readonly recordsKeyArn?: string;
  readonly fle: {
    readonly providerId: string;
    readonly keyName: string;
    readonly publicKeyPem: string;
    readonly privateKeyPem: string;
  };
}

const accountId = "000000000000";

function principal(kind: "role" | "user", name: string): LocalPrincipal {
  const id = randomBytes(8).toString("hex").toUpperCase();
  return {
    accessKeyId: `AKIA${id}`,
    secretAccessKey: randomBytes(30).toString("base64url").slice(0, 40),
    arn:
      kind === "role"
        ? `arn:aws:sts::${accountId}:assumed-role/${name}/local`
        : `arn:aws:iam::${accountId}:user/${name}`,
  };
}

/** A 40-character API key, like API Gateway's. */
export function newApiKey(): string {
  return randomBytes(40).toString("base64url").replace(/[-_]/g, "").slice(0, 40).padEnd(40, "0");
}

/** Loads the identities of a state folder, creating them on first use. */
export async function loadIdentities(file: string): Promise<LocalIdentities> {
  if (existsSync(file)) return JSON.parse(await readFile(file, "utf8")) as LocalIdentities;
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const ids: LocalIdentities = {
    accountId,
    functionRole: principal("role", "veil-local-api"),
    edgeRole: principal("role", "veil-local-edge-signer"),
    adminRole: principal("role", "veil-local-key-admin"),
    developer: principal("user", "developer"),
    apiKeys: [newApiKey()],
    fle: {
      providerId: "veil-local-fle",
      keyName: "veil-local-fle-key-1",
      publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
      privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    },
  };
  await writeFile(file, `${JSON.stringify(ids, null, 2)}\n`, { mode: 0o600 });
  return ids;
}

/** Saves changed identities (e.g. after an API key rotation). */
export async function saveIdentities(file: string, ids: LocalIdentities): Promise<void> {
  await writeFile(file, `${JSON.stringify(ids, null, 2)}\n`, { mode: 0o600 });
}
