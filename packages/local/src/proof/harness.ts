/**
 * A local stack prepared for proof tests: two signed-up users, recording proxies in front of CloudFront
 * and between CloudFront and the gateway (what a rogue operator could read in transit at either hop),
 * the records function's log probe on, and helpers to call the API through CloudFront or straight at
 * the gateway with a chosen signature. Calls go through the Node API client: each carries a DPoP proof
 * of its user's session key, and sealed answers come back opened (`rawAnswer` gives what crossed).
 */
import { randomBytes, randomInt } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { headers as headerNames, proofOfPossession, type SensitiveFieldName } from "@veil/core";
import { createOriginRequestHandler } from "@veil/edge";
import type { CloudFrontRequest } from "aws-lambda";
import {
  type ApiClient,
  type ApiRequestInit,
  createSessionClients,
  makeProof,
  type Proof,
  type ProofChoice,
  type SessionClients,
  sessionClients,
} from "../client/index.ts";
import { buildOriginRequestEvent } from "../cloudfront/index.ts";
import { signUpAndSignIn } from "../cognito/index.ts";
import { jwtClaims } from "../cognito/signing-key.ts";
import { canaryNeedles, containsAny } from "../scan/needles.ts";
import { ephemeralPorts } from "../stack/config.ts";
import type { LocalPrincipal } from "../stack/identities.ts";
import { type LocalStack, type StartStackOptions, startLocalStack } from "../stack/start.ts";
import type { ControlName, StackTestOptions } from "./controls.ts";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";

export { rawAnswer } from "../client/index.ts";

/** A signed-in user of the local Cognito. */
export interface ProofUser {
  readonly token: string;
  readonly sub: string;
}

/** The direct-to-gateway request a test wants, signed as the edge would unless told otherwise. */
export interface DirectRequest {
  readonly method: string;
  readonly path: string;
  readonly querystring?: string;
  readonly body?: string | Buffer;
  readonly contentType?: string;
  readonly token?: string;
  readonly headers?: Record<string, string>;
  readonly signer?: LocalPrincipal;
  readonly now?: Date;
  /** `null`: send no API key. */
  readonly apiKey?: string | null;
  /** `false`: send no SigV4 headers at all. */
  readonly sign?: boolean;
  readonly tamper?: (body: Buffer) => Buffer;
  /** The proof: made with the token's session client unless `false` (none) or given. */
  readonly proof?: ProofChoice;
  /** The client proving and opening for the token's session. Default: the process-wide registry's. */
  readonly client?: ApiClient;
  /** The public URL the proof's `htu` names (and whose host the viewer-host header carries). */
  readonly viewerUrl?: string;
}

export interface ProofStack {
  readonly stack: LocalStack;
  readonly databaseUrl: string;
  readonly stateDir: string;
  readonly alice: ProofUser;
  readonly bob: ProofUser;
  /** Records every byte between the local CloudFront and the gateway. */
  readonly wire: TcpProxy;
  /** Records every byte between the callers of `api` and the local CloudFront. */
  readonly viewerWire: TcpProxy;
  /** The URL `api` calls: the local CloudFront, through `viewerWire`. */
  readonly edgeUrl: string;
  /**
   * A fetch through the local CloudFront (the only public entry point): with `token`, a proof of the
   * token's session key; sealed answers come back opened.
   */
  api(path: string, init?: ApiRequestInit): Promise<Response>;
  /** The API client of the session `token` belongs to (its key is the one bound to the session). */
  client(token: string): ApiClient;
  /** A request sent straight to the gateway, bypassing CloudFront (and its FLE). */
  direct(request: DirectRequest): Promise<Response>;
  /** Signs up another user. */
  newUser(name: string): Promise<ProofUser>;
  /**
   * Every form of every canary made by `makeCanaries` since this stack started, found in an answer at
   * either hop or in a request past CloudFront (requests reach CloudFront in clear by design: it is
   * CloudFront that encrypts the fields). Empty when nothing leaked.
   */
  leaks(): string[];
  stop(): Promise<void>;
}

/** Options of `startProofStack`. */
export interface ProofStackOptions extends Omit<StartStackOptions, "test" | "stateDir" | "ports"> {
  readonly databaseUrl: string;
  readonly disableControl?: ControlName;
  readonly logProbe?: boolean;
  /** More test options (e.g. a fault proxy in front of the gateway instead of the recorder). */
  readonly test?: Omit<StackTestOptions, "disableControl" | "logProbe" | "originPort">;
}

/** Starts a proof stack on a fresh state folder. */
export async function startProofStack(options: ProofStackOptions): Promise<ProofStack> {
  const { disableControl, logProbe = true, test, ...rest } = options;
  const stateDir = mkdtempSync(join(tmpdir(), "veil-proof-"));
  let wire: TcpProxy | undefined;
  let stack: LocalStack | undefined;
  // Ports are chosen before the components bind them; another process (or our own proxy on port 0) can
  // take one in between. Such a start is retried on fresh ports.
  for (let attempt = 1; stack === undefined; attempt += 1) {
    try {
      stack = await startLocalStack({
        ...rest,
        stateDir,
        ports: ephemeralPorts,
        webRoot: stateDir,
        test: {
          ...test,
          ...(disableControl ? { disableControl } : {}),
          logProbe,
          originPort: async (gatewayPort) => {
            wire = await startTcpProxy({ targetPort: gatewayPort, record: true });
            return wire.port;
          },
        },
      });
    } catch (err) {
      await wire?.stop();
      wire = undefined;
      if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE" || attempt >= 3) throw err;
    }
  }
  if (!wire) throw new Error("the stack did not ask for an origin port");
  const tap = wire;
  const edge = new URL(stack.info.edgeUrl);
  const viewerWire = await startTcpProxy({ targetPort: Number(edge.port), record: true });
  const edgeUrl = `${edge.protocol}//${edge.hostname}:${viewerWire.port}`;
  const sessions: SessionClients = createSessionClients({ baseUrl: edgeUrl });
  const firstCanary = plantedCanaries.length;

  const newUser = async (name: string): Promise<ProofUser> => {
    const { accessToken } = await signUpAndSignIn(stack.info.cognito.endpoint, stack.info.cognito.clientId, {
      email: `${name}-${randomBytes(4).toString("hex")}@users.example.net`,
      password: `Pw-${randomBytes(9).toString("base64url")}-1a`,
    });
    return { token: accessToken, sub: String(jwtClaims(accessToken).sub) };
  };
  const [alice, bob] = await Promise.all([newUser("alice"), newUser("bob")]);

  return {
    stack,
    databaseUrl: options.databaseUrl,
    stateDir,
    alice,
    bob,
    wire: tap,
    viewerWire,
    edgeUrl,
    newUser,
    api(path, init = {}) {
      return sessions.forToken(init.token ?? "").fetch(`${edgeUrl}${path}`, init);
    },
    client: (token) => sessions.forToken(token),
    direct: (request) =>
      sendDirect(stack, {
        viewerUrl: edgeUrl,
        ...(request.token !== undefined ? { client: sessions.forToken(request.token) } : {}),
        ...request,
      }),
    leaks() {
      const found: string[] = [];
      const places = {
        "answers at CloudFront": viewerWire.recorded("answer"),
        "requests past CloudFront": tap.recorded("request"),
        "answers past CloudFront": tap.recorded("answer"),
      };
      for (const [label, value] of plantedCanaries.slice(firstCanary))
        for (const [place, bytes] of Object.entries(places))
          if (containsAny(bytes, canaryNeedles(value))) found.push(`${label} in ${place}`);
      return found;
    },
    async stop() {
      await stack.stop();
      await tap.stop();
      await viewerWire.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** Sends a request straight to the stack's gateway, bypassing CloudFront, signed as the edge would sign it. */
export async function sendDirect(stack: LocalStack, o: DirectRequest): Promise<Response> {
  const gateway = new URL(stack.info.gatewayUrl);
  const body = typeof o.body === "string" ? Buffer.from(o.body) : (o.body ?? Buffer.alloc(0));
  const viewer = new URL(o.viewerUrl ?? stack.info.edgeUrl);
  const client = o.token !== undefined ? (o.client ?? sessionClients.forToken(o.token)) : undefined;
  let proof: Proof | undefined;
  if (client && o.token && o.proof !== false) {
    const target = `${viewer.origin}${o.path}`;
    proof =
      o.proof === undefined
        ? await client.proof(o.method, target, o.token)
        : "jwt" in o.proof
          ? o.proof
          : await makeProof(await client.keys(), {
              method: o.method,
              url: target,
              accessToken: o.token,
              claims: o.proof.claims,
            });
  }
  const raw = [
    ...(o.contentType ? ["content-type", o.contentType] : []),
    ...(o.token ? ["authorization", `Bearer ${o.token}`] : []),
    ...(proof ? [proofOfPossession.header, proof.jwt, proofOfPossession.viewerHostHeader, viewer.host] : []),
    ...Object.entries(o.headers ?? {}).flat(),
  ];
  let headers: Record<string, string> = {};
  if (o.sign === false) {
    for (let i = 0; i + 1 < raw.length; i += 2) headers[raw[i] as string] = raw[i + 1] as string;
  } else {
    const event = buildOriginRequestEvent({
      method: o.method,
      uri: o.path,
      querystring: o.querystring ?? "",
      rawHeaders: raw,
      clientIp: "127.0.0.1",
      body,
      origin: {
        domainName: gateway.hostname,
        port: Number(gateway.port),
        protocol: "http",
        path: gateway.pathname,
        customHeaders: {},
      },
      distributionDomainName: "test",
      distributionId: "TEST",
      requestId: "test",
    });
    const signer = o.signer ?? stack.identities.edgeRole;
    const sign = createOriginRequestHandler({
      region: stack.info.region,
      credentials: () => ({ accessKeyId: signer.accessKeyId, secretAccessKey: signer.secretAccessKey }),
      ...(o.now ? { now: () => o.now as Date } : {}),
    });
    const signed = await sign(event);
    if ("status" in signed) {
      return new Response(signed.body ?? "", { status: Number(signed.status) });
    }
    headers = {};
    for (const [name, values] of Object.entries((signed as CloudFrontRequest).headers))
      if (name !== "host") headers[name] = values[0]?.value ?? "";
  }
  if (o.apiKey !== null) headers[headerNames.apiKey] = o.apiKey ?? stack.info.gatewayApiKey;
  const sent = o.tamper ? o.tamper(body) : body;
  const bodiless = o.method === "GET" || o.method === "HEAD";
  const url = `${gateway.origin}${gateway.pathname}${o.path}${o.querystring ? `?${o.querystring}` : ""}`;
  const res = await fetch(url, {
    method: o.method,
    headers,
    ...(bodiless ? {} : { body: new Uint8Array(sent) }),
  });
  return client ? client.receive(res, { url, method: o.method, ...(proof ? { proof } : {}) }) : res;
}

/** Every canary `makeCanaries` made in this process, as [label, value]; `ProofStack.leaks` scans for them. */
const plantedCanaries: [string, string][] = [];

/** One canary per sensitive field, valid for its field and unique to this call. */
export function makeCanaries(): Record<SensitiveFieldName, string> & { tag: string } {
  const tag = randomBytes(5).toString("hex");
  const digits = () => String(randomInt(1e6, 9e6));
  const canaries = {
    tag,
    fullName: `Canary Fullname ${tag}`,
    dateOfBirth: `19${randomInt(10, 99)}-0${randomInt(1, 9)}-1${randomInt(0, 9)}`,
    insuranceNumber: `CNRY${randomInt(1e9, 9e9)}`,
    email: `canary.${tag}@example.org`,
    phone: `+41 79 ${digits()}`,
    diagnosis: `Canary diagnosis ${tag}`,
    notes: `Canary notes ${tag} with + & % = characters`,
  };
  for (const [field, value] of Object.entries(canaries))
    if (field !== "tag") plantedCanaries.push([`${tag}.${field}`, value]);
  return canaries;
}

/** The canaries without their tag, ready for a form or a scan. */
export function canaryFields(c: ReturnType<typeof makeCanaries>): Record<SensitiveFieldName, string> {
  const { tag: _tag, ...fields } = c;
  return fields;
}

/** A url-encoded record form. */
export function recordForm(values: Record<string, string>, category = "neurology"): string {
  return new URLSearchParams({ category, ...values }).toString();
}

export const formType = "application/x-www-form-urlencoded";
