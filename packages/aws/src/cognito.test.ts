/**
 * The Cognito user client against the local Cognito of packages/local (cognito-local behind a proxy
 * that verifies access tokens as Cognito does): `DeleteUser` with the user's own token, unsigned; a
 * forged token deletes nothing; the deleted user can no longer sign in; errors carry no token.
 */
import { generateKeyPairSync, sign } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type LocalCognito,
  signIn,
  signUpAndSignIn,
  startLocalCognito,
} from "../../local/src/cognito/index.ts";
import { jwtClaims } from "../../local/src/cognito/signing-key.ts";
import { createCognitoUserClient } from "./cognito.ts";
import { AwsServiceError } from "./errors.ts";

let dir: string;
let cognito: LocalCognito;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "veil-aws-cognito-"));
  cognito = await startLocalCognito({ stateDir: dir, region: "eu-central-2" });
});
afterAll(async () => {
  await cognito?.stop();
  await rm(dir, { recursive: true, force: true });
});

const client = () => createCognitoUserClient({ endpoint: cognito.endpoint, region: "eu-central-2", env: {} });
const user = (name: string) => ({ email: `${name}@users.example.net`, password: "Corr3ct-Horse-1a!" });

/** A token with the user's claims, signed by someone else. */
function forged(token: string): string {
  const claims = jwtClaims(token);
  const key = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const input = `${enc({ alg: "RS256", typ: "JWT", kid: cognito.jwks.keys[0]!.kid })}.${enc(claims)}`;
  return `${input}.${sign("sha256", Buffer.from(input), key).toString("base64url")}`;
}

describe("createCognitoUserClient().deleteUser", () => {
  it("deletes the token's user; the user cannot sign in any more", async () => {
    const ada = user("ada");
    const { accessToken } = await signUpAndSignIn(cognito.endpoint, cognito.clientId, ada);
    expect(await client().deleteUser({ AccessToken: accessToken })).toBe("deleted");
    await expect(signIn(cognito.endpoint, cognito.clientId, ada)).rejects.toMatchObject({
      type: "NotAuthorizedException",
    });
  });

  it("a forged token is refused (NotAuthorizedException) and the user stays; the error holds no token", async () => {
    const bob = user("bob");
    const { accessToken } = await signUpAndSignIn(cognito.endpoint, cognito.clientId, bob);
    const err = await client()
      .deleteUser({ AccessToken: forged(accessToken) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsServiceError);
    expect(err).toMatchObject({ name: "NotAuthorizedException", statusCode: 400, attempts: 1 });
    expect(JSON.stringify({ ...(err as object), message: (err as Error).message })).not.toContain(
      accessToken.split(".")[2],
    );
    await expect(signIn(cognito.endpoint, cognito.clientId, bob)).resolves.toBeDefined();
  });

  it("is sent unsigned, with exactly the JSON protocol headers, and maps UserNotFoundException to absent", async () => {
    const seen: Record<string, string | string[] | undefined>[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on("end", () => {
        res.writeHead(400, { "content-type": "application/x-amz-json-1.1" });
        res.end(JSON.stringify({ __type: "UserNotFoundException", message: "User does not exist." }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as AddressInfo).port;
      const c = createCognitoUserClient({
        endpoint: `http://127.0.0.1:${port}`,
        region: "eu-central-2",
        env: {},
      });
      expect(await c.deleteUser({ AccessToken: "a.b.c" })).toBe("absent");
      expect(seen[0]).toMatchObject({
        "x-amz-target": "AWSCognitoIdentityProviderService.DeleteUser",
        "content-type": "application/x-amz-json-1.1",
      });
      expect(seen[0]?.authorization).toBeUndefined();
      expect(seen[0]?.["x-amz-date"]).toBeUndefined();
    } finally {
      server.close();
    }
  });
});
