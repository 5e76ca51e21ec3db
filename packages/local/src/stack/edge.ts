/**
 * The front of the stack: the edge function (the same origin-request handler as Lambda@Edge, signing
 * with the edge role) and CloudFront, which serves the web app, applies field-level encryption and
 * adds the API key of the moment to every origin request.
 */
import { createHash, createPublicKey } from "node:crypto";
import { headers, securityHeaders } from "@veil/core";
import { encryptFleForm } from "@veil/crypto";
import { createOriginRequestHandler } from "@veil/edge";
import { type LocalCloudFront, startLocalCloudFront } from "../cloudfront/index.ts";
import type { LocalCognito } from "../cognito/index.ts";
import type { LocalIdentities } from "./identities.ts";
import type { Teardown } from "./teardown.ts";

/** What the edge step needs. */
export interface EdgeArgs {
  readonly port: number;
  readonly region: string;
  readonly stage: string;
  readonly ids: LocalIdentities;
  /** Where CloudFront sends API requests (the gateway, or a test's proxy in front of it). */
  readonly originPort: number;
  /** The API key CloudFront adds now; read per request, so a rotation takes effect at once. */
  readonly apiKey: () => string;
  readonly webRoot?: string;
  readonly cognito: Pick<LocalCognito, "endpoint" | "userPoolId" | "clientId">;
  /** Origins the web app may connect to besides its own (Cognito, S3). */
  readonly connectSrc: string[];
  /** Origins the web app may upload images to (the inbox bucket's), for `/config.json`. */
  readonly uploadOrigins: string[];
  readonly accessLog: (entry: Record<string, unknown>) => void;
  /** Test switches. */
  readonly fleOff?: boolean;
  readonly securityHeadersOff?: boolean;
}

/** Starts the edge signer and CloudFront in front of everything; registers the stop. */
export async function startEdge(teardown: Teardown, a: EdgeArgs): Promise<LocalCloudFront> {
  const { ids } = a;
  const edgeSigner = createOriginRequestHandler({
    region: a.region,
    credentials: () => ({
      accessKeyId: ids.edgeRole.accessKeyId,
      secretAccessKey: ids.edgeRole.secretAccessKey,
    }),
  });
  const cloudfront = await startLocalCloudFront({
    port: a.port,
    ...(a.webRoot ? { webRoot: a.webRoot } : {}),
    origin: () => ({
      domainName: "127.0.0.1",
      port: a.originPort,
      protocol: "http",
      path: `/${a.stage}`,
      customHeaders: { [headers.apiKey]: a.apiKey() },
    }),
    originRequest: edgeSigner,
    encryptForm: async (body) =>
      a.fleOff
        ? body
        : encryptFleForm(body, {
            publicKeyPem: ids.fle.publicKeyPem,
            providerId: ids.fle.providerId,
            keyName: ids.fle.keyName,
          }),
    responseHeaders: a.securityHeadersOff
      ? {}
      : securityHeaders({ connectSrc: a.connectSrc, upgradeInsecureRequests: false }),
    accessLog: a.accessLog,
    runtimeConfig: () => ({
      region: a.region,
      stage: a.stage,
      cognito: {
        userPoolId: a.cognito.userPoolId,
        userPoolClientId: a.cognito.clientId,
        endpoint: a.cognito.endpoint,
        authFlow: "USER_PASSWORD_AUTH",
      },
      uploadOrigins: a.uploadOrigins,
      uploadKeySha256: [spkiSha256(ids.fle.publicKeyPem)],
    }),
  });
  teardown.add(() => cloudfront.stop());
  return cloudfront;
}

/** The SHA-256 (base64url) of a PEM public key's DER SubjectPublicKeyInfo: the web app pins it. */
const spkiSha256 = (pem: string) =>
  createHash("sha256")
    .update(createPublicKey(pem).export({ type: "spki", format: "der" }))
    .digest("base64url");
