/**
 * Deploy-time Lambda (infra/db-bootstrap.ts invokes it on every deploy that changes the migrations or
 * the role declaration): migrates the RDS database as the master user and applies the app role model.
 * Returns a summary only; logs nothing. See bootstrap.ts.
 */
import { readFile } from "node:fs/promises";
import { createSecretsManagerClient } from "@veil/aws";
import { defaultAppRole } from "@veil/db";
import { linked } from "../shared/resources.ts";
import { bootstrapDatabase, type DbBootstrapResult } from "./bootstrap.ts";

/** Lambda's Node.js runtimes keep a CA bundle that includes the RDS certificate authorities here. */
const lambdaCaBundle = "/var/runtime/ca-cert.pem";

const client = createSecretsManagerClient();

/** Lambda entry point; the event is the invocation input. */
export async function handler(event: unknown): Promise<DbBootstrapResult> {
  const db = linked("Database");
  const master = linked("DatabaseMaster");
  return bootstrapDatabase(
    event,
    {
      // The instance itself: the functions' host is the RDS Proxy, which refuses password logins.
      host: master.host,
      port: db.port,
      database: db.database,
      region: process.env.AWS_REGION ?? "",
      masterSecretArn: master.secretArn,
      appRole: db.username || defaultAppRole,
    },
    {
      ca: await readFile(lambdaCaBundle),
      secrets: {
        async getSecretString(secretId) {
          const { SecretString } = await client.getSecretValue({ SecretId: secretId });
          if (SecretString === undefined) throw new Error("master secret has no string value");
          return SecretString;
        },
      },
    },
  );
}
