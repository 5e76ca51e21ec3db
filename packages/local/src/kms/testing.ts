import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KMSClient } from "@aws-sdk/client-kms";
import type { KmsPrincipals } from "./auth.ts";
import { keyPolicy } from "./key-policy.ts";
import { type LocalKms, type LocalKmsOptions, startLocalKms } from "./server.ts";

/** Shared fixtures of the KMS tests: three principals with separated duties. */
export const ACCOUNT = "111122223333";
export const REGION = "eu-central-2";

export const ADMIN = {
  id: "AKIAADMIN0000000001",
  secret: "admin-secret",
  arn: `arn:aws:iam::${ACCOUNT}:role/KeyAdmin`,
};
export const APP = {
  id: "AKIAAPP000000000001",
  secret: "app-secret",
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/RecordsFunction/records-session`,
  role: `arn:aws:iam::${ACCOUNT}:role/RecordsFunction`,
};
export const DEVELOPER = {
  id: "AKIADEV000000000001",
  secret: "dev-secret",
  arn: `arn:aws:iam::${ACCOUNT}:user/developer`,
};

export const PRINCIPALS: KmsPrincipals = {
  [ADMIN.id]: {
    secret: ADMIN.secret,
    arn: ADMIN.arn,
    identityActions: ["kms:CreateKey", "kms:ListKeys", "kms:ListAliases"],
  },
  [APP.id]: { secret: APP.secret, arn: APP.arn },
  // The developer's IAM policy is generous; only the key policy keeps them from the data.
  [DEVELOPER.id]: { secret: DEVELOPER.secret, arn: DEVELOPER.arn, identityActions: ["kms:*"] },
};

/** The policy the tests put on their keys: KeyAdmin administers, the records function's role uses it. */
export const POLICY = keyPolicy({ admins: [ADMIN.arn], users: [APP.role] });

export function client(kms: LocalKms, who: { id: string; secret: string }): KMSClient {
  return new KMSClient({
    endpoint: kms.endpoint,
    region: kms.region,
    credentials: { accessKeyId: who.id, secretAccessKey: who.secret },
    maxAttempts: 1,
  });
}

/** A temporary state folder and a KMS on it; `restart` stops and starts on the same folder. */
export async function fixture(overrides: Partial<LocalKmsOptions> = {}) {
  const stateDir = await mkdtemp(join(tmpdir(), "veil-kms-"));
  const options = { stateDir, region: REGION, accountId: ACCOUNT, principals: PRINCIPALS, ...overrides };
  let kms = await startLocalKms(options);
  return {
    stateDir,
    get kms() {
      return kms;
    },
    async restart() {
      await kms.stop();
      kms = await startLocalKms(options);
      return kms;
    },
    async close() {
      await kms.stop();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/** Rejects with the error the SDK parsed, to assert its `name` (the `__type`) and HTTP status. */
export async function failure(
  p: Promise<unknown>,
): Promise<{ name: string; message: string; status?: number }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error("expected a failure");
}
