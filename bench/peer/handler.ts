/**
 * The peer baseline's records-create handler (POST /api/records): the same validation, database
 * writes, token verifier, logger and request handling as ours, with the crypto and AWS clients as the
 * AWS documentation shows them — `records-crypto.ts` over the stock Encryption SDK, the FLE private key
 * read with `@aws-sdk/client-secrets-manager`, KMS reached through `@aws-sdk/client-kms` (the keyring's
 * default client). Clients are created at import, dependencies on the first request, as the Lambda
 * documentation recommends. Bundled and measured by `bench/bundle.ts`; never deployed.
 */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { type ApiRouteInput, createApiHandler } from "../../functions/src/shared/api-handler.ts";
import { createCallerVerifier, type VerifyCaller } from "../../functions/src/shared/auth.ts";
import { HttpError } from "../../functions/src/shared/errors.ts";
import { json, requireFormBody } from "../../functions/src/shared/http.ts";
import { createProofVerifier } from "../../functions/src/shared/proof.ts";
import { linked } from "../../functions/src/shared/resources.ts";
import { type AnswerSealer, answerSealer } from "../../functions/src/shared/sealing.ts";
import {
  encryptionPurposes,
  splitSensitive,
  ValidationError,
  validateRecordInput,
} from "../../packages/core/src/index.ts";
import { audit, createPool, records, withTransaction } from "../../packages/db/src/index.ts";
import { createLogger } from "../../packages/log/src/index.ts";
import { createPeerRecordsCrypto, type PeerRecordsCrypto } from "./records-crypto.ts";

interface PeerDeps {
  readonly pool: ReturnType<typeof createPool>;
  readonly crypto: PeerRecordsCrypto;
  readonly verifyCaller: VerifyCaller;
  readonly sealer: AnswerSealer;
}

const logger = createLogger({ serviceName: "peer-records" });
const secrets = new SecretsManagerClient({});

async function buildDeps(): Promise<PeerDeps> {
  const app = linked("App");
  const db = linked("Database");
  const fle = linked("FleKey");
  const secret = await secrets.send(new GetSecretValueCommand({ SecretId: fle.secretArn }));
  const { keyName, privateKeyPem } = JSON.parse(secret.SecretString ?? "{}") as {
    keyName: string;
    privateKeyPem: string;
  };
  const pool = createPool({ connectionString: db.url ?? "", max: 2 });
  return {
    pool,
    crypto: createPeerRecordsCrypto({
      app: app.name,
      stage: app.stage,
      keyArn: linked("RecordsKey").arn,
      fle: { providerId: fle.providerId, keyName, privateKeyPem },
    }),
    verifyCaller: createCallerVerifier({
      userPoolId: linked("UserPool").id,
      clientId: linked("UserPoolClient").id,
      ...(process.env.VEIL_COGNITO_JWKS ? { jwks: process.env.VEIL_COGNITO_JWKS } : {}),
      verifyProof: createProofVerifier({ db: pool }),
    }),
    sealer: answerSealer,
  };
}

async function createRecord({ deps, caller, event, requestId }: ApiRouteInput<PeerDeps>) {
  const form = await deps.crypto.openForm(requireFormBody(event));
  const { sensitive, category } = splitSensitive(validateRecordInput(form));
  const id = records.newRecordId();
  const ciphertext = await deps.crypto.encryptFields(sensitive, {
    ownerId: caller.sub,
    recordId: id,
    purpose: encryptionPurposes.recordFields,
  });
  const row = await withTransaction(deps.pool, async (tx) => {
    const inserted = await records.insert(tx, { id, ownerId: caller.sub, category, ciphertext });
    await audit.append(tx, {
      ownerId: caller.sub,
      actor: caller.sub,
      action: "create",
      recordId: id,
      requestId,
    });
    return inserted;
  });
  return json(201, { id: row.id, version: row.version }, requestId, { location: `/api/records/${row.id}` });
}

function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof ValidationError) return new HttpError(400, "ValidationError", "Some fields are invalid");
  return new HttpError(500, "InternalError", "Something went wrong on our side");
}

/** API Gateway (REST, proxy integration) entry point. */
export const handler = createApiHandler<PeerDeps>({
  routes: { "POST /api/records": createRecord },
  deps: buildDeps,
  toHttpError,
  logger,
});
