import { createSecretsManagerClient } from "@veil/aws";
import {
  createInMemoryEnvelopeCrypto,
  decryptFleForm,
  FleDecryptError,
  type InMemoryEnvelopeCrypto,
} from "@veil/crypto";
import { callerVerifier, createTokenVerifier, type VerifyCaller, type VerifyToken } from "../shared/auth.ts";
import { databasePool, type Pool } from "../shared/database.ts";
import { type FleKeys, loadFleKeys } from "../shared/fle-key.ts";
import { createProofVerifier, type VerifyProof } from "../shared/proof.ts";
import { linked } from "../shared/resources.ts";
import { type AnswerSealer, answerSealer } from "../shared/sealing.ts";
import { createRequestHasher, loadRequestHashKey } from "./request-hash.ts";

/** Everything the records routes need, built once per Lambda instance. */
export interface RecordsDeps {
  readonly pool: Pool;
  /** In-memory messages only: the records routes never stream. */
  readonly envelope: InMemoryEnvelopeCrypto;
  /** The access token, then its proof: `callerVerifier(verifyToken, verifyProof)`. */
  readonly verifyCaller: VerifyCaller;
  readonly verifyToken: VerifyToken;
  readonly verifyProof: VerifyProof;
  /** Seals every 2xx answer with a body to the caller's key. */
  readonly sealer: AnswerSealer;
  /** Decrypts the FLE fields of a url-encoded body (current key, then the previous one during rotation). */
  openForm(body: string): Promise<Record<string, string>>;
  /**
   * Keyed hash of a request, for idempotency: reveals nothing about low-entropy plaintext. Keyed with
   * its own secret, so it stays the same across FLE key rotations (./request-hash.ts).
   */
  requestHash(parts: readonly string[]): Promise<string>;
}

function formOpener(keys: FleKeys): RecordsDeps["openForm"] {
  return async (body) => {
    try {
      return await decryptFleForm(body, { providerId: keys.providerId, ...keys.current });
    } catch (err) {
      if (!(err instanceof FleDecryptError) || !keys.previous) throw err;
      return decryptFleForm(body, { providerId: keys.providerId, ...keys.previous });
    }
  };
}

/** Builds the dependencies from the linked resources and the runtime's credentials. */
export async function createRecordsDeps(): Promise<RecordsDeps> {
  const app = linked("App");
  const fle = linked("FleKey");
  const { secretArn: requestHashSecretArn } = linked("IdempotencySecret");
  const secrets = createSecretsManagerClient();
  const requestHash = createRequestHasher(() => loadRequestHashKey(secrets, requestHashSecretArn));
  // Read while the cold start loads the FLE keys; a failure here only affects keyed creates, later.
  requestHash.warm();
  const keys = await loadFleKeys(fle.secretArn, fle.providerId, secrets);
  const pool = await databasePool();
  const verifyToken = createTokenVerifier({
    userPoolId: linked("UserPool").id,
    clientId: linked("UserPoolClient").id,
    ...(process.env.VEIL_COGNITO_JWKS ? { jwks: process.env.VEIL_COGNITO_JWKS } : {}),
  });
  const verifyProof = createProofVerifier({ db: pool });
  return {
    pool,
    envelope: createInMemoryEnvelopeCrypto({
      app: app.name,
      stage: app.stage,
      kms: { keyId: linked("RecordsKey").arn },
    }),
    verifyCaller: callerVerifier(verifyToken, verifyProof),
    verifyToken,
    verifyProof,
    sealer: answerSealer,
    openForm: formOpener(keys),
    requestHash,
  };
}
