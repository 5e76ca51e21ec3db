/**
 * The security checks of proof-of-possession and sealed answers, and the attacks they are made of:
 * each attack is a request through the local CloudFront with a valid bearer token and something wrong
 * with its DPoP proof, which must get 401 with the same generic body as any 401, and a request id.
 * The `sealing` check reads a canary record, its list and its image through CloudFront and looks for
 * the canaries in what crossed either hop.
 */
import { headers as headerNames } from "@veil/core";
import { jpegFixture } from "@veil/storage/testing";
import { accessTokenHash, createApiClient, rawAnswer, SealedAnswerError } from "../client/index.ts";
import { imageClient } from "../s3/testing.ts";
import { canaryNeedles, containsAny } from "../scan/needles.ts";
import {
  canaryFields,
  formType,
  makeCanaries,
  type ProofStack,
  type ProofUser,
  recordForm,
} from "./harness.ts";

/** One attack: sends one request for `user` (whose session key is already bound) and returns the answer. */
export type ProofAttack = (p: ProofStack, user: ProofUser) => Promise<Response>;

const list = "/api/records";
const now = () => Math.floor(Date.now() / 1000);

/** The attacks on proof-of-possession, by name. */
export const proofAttacks: Record<string, ProofAttack> = {
  "no proof": (p, u) => p.api(list, { token: u.token, proof: false }),
  "a replayed proof": async (p, u) => {
    const proof = await p.client(u.token).proof("GET", `${p.edgeUrl}${list}`, u.token);
    const first = await p.api(list, { token: u.token, proof });
    await first.arrayBuffer();
    if (first.status !== 200) throw new Error(`the first use of the proof answered ${first.status}`);
    return p.api(list, { token: u.token, proof });
  },
  "a proof from another key for the same session": (p, u) =>
    createApiClient({ baseUrl: p.edgeUrl }).fetch(list, { token: u.token }),
  "a forged proof (signature of another key under this key's header)": async (p, u) => {
    const mine = await p.client(u.token).proof("GET", `${p.edgeUrl}${list}`, u.token);
    const other = await createApiClient().proof("GET", `${p.edgeUrl}${list}`, u.token);
    const [header, payload] = mine.jwt.split(".");
    const forged = `${header}.${payload}.${other.jwt.split(".")[2]}`;
    return p.api(list, { token: u.token, proof: { jwt: forged, jti: mine.jti } });
  },
  "a stale iat": (p, u) => p.api(list, { token: u.token, proof: { claims: { iat: now() - 120 } } }),
  "an iat in the future": (p, u) => p.api(list, { token: u.token, proof: { claims: { iat: now() + 60 } } }),
  "a wrong htu (another host)": (p, u) =>
    p.api(list, { token: u.token, proof: { claims: { htu: `https://elsewhere.example.net${list}` } } }),
  "a wrong htu (another path)": (p, u) =>
    p.api(list, { token: u.token, proof: { claims: { htu: `${p.edgeUrl}/api/records/other` } } }),
  "a wrong htm": (p, u) => p.api(list, { token: u.token, proof: { claims: { htm: "POST" } } }),
  "a wrong ath (another token's hash)": async (p, u) =>
    p.api(list, { token: u.token, proof: { claims: { ath: await accessTokenHash(`${u.token}x`) } } }),
  "a proof without jti": (p, u) => p.api(list, { token: u.token, proof: { claims: { jti: undefined } } }),
};

/** The answer of a plain 401 (no token at all), the body every proof failure must match. */
export async function genericUnauthorized(p: ProofStack): Promise<Record<string, unknown>> {
  const res = await p.api(list);
  return withoutRequestId((await res.json()) as Record<string, unknown>);
}

function withoutRequestId(body: Record<string, unknown>): Record<string, unknown> {
  const { requestId: _id, ...rest } = body;
  return rest;
}

/** What is wrong with an attack's answer: not 401, not the generic body, or no request id. */
export async function judgeRefusal(
  name: string,
  res: Response,
  generic: Record<string, unknown>,
): Promise<string[]> {
  const problems: string[] = [];
  const text = await res.text();
  if (res.status !== 401) problems.push(`${name}: ${res.status}, not 401`);
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    problems.push(`${name}: the body is not JSON`);
  }
  if (JSON.stringify(withoutRequestId(body)) !== JSON.stringify(generic))
    problems.push(`${name}: the body is not the generic 401`);
  if (!(typeof body.requestId === "string" && body.requestId) && !res.headers.get(headerNames.requestId))
    problems.push(`${name}: no request id`);
  return problems;
}

/** Runs every attack for a fresh user whose key is bound first; lists what went wrong. */
export async function runProofAttacks(p: ProofStack): Promise<string[]> {
  const user = await p.newUser("attacked");
  const bound = await p.api(list, { token: user.token });
  await bound.arrayBuffer();
  const problems = bound.status === 200 ? [] : [`the session's own first request got ${bound.status}`];
  const generic = await genericUnauthorized(p);
  for (const [name, attack] of Object.entries(proofAttacks)) {
    try {
      problems.push(...(await judgeRefusal(name, await attack(p, user), generic)));
    } catch (err) {
      // An accepted request answered in clear (no key to seal to) is refused by the client: accepted all the same.
      if (!(err instanceof SealedAnswerError)) throw err;
      problems.push(`${name}: accepted (answer ${err.reason})`);
    }
  }
  const after = await p.api(list, { token: user.token });
  await after.arrayBuffer();
  if (after.status !== 200) problems.push(`the session's own key was refused afterwards: ${after.status}`);
  return problems;
}

/**
 * Creates a canary record with a canary image as a browser would, then reads it, lists it and downloads
 * the image through CloudFront; lists what crossed either hop in clear, and any answer not sealed.
 */
export async function readSealedCanaries(p: ProofStack): Promise<string[]> {
  const problems: string[] = [];
  const c = makeCanaries();
  const user = await p.newUser("sealed");
  const imageCanary = `CanaryPixels${c.tag}`;
  // What the hops carry from here on (recordings are not cleared: the suite's leak scan reads them all).
  const since = {
    viewer: p.viewerWire.mark(),
    wire: p.wire.mark(),
  };
  const sent: Response[] = [];
  const call = async (what: string, send: () => Promise<Response>) => {
    try {
      const res = await send();
      sent.push(res);
      return res;
    } catch (err) {
      if (!(err instanceof SealedAnswerError)) throw err;
      problems.push(`${what}: answer refused (${err.reason})`);
      return undefined;
    }
  };
  const created = await call("create", () =>
    p.api(list, {
      method: "POST",
      token: user.token,
      headers: { "content-type": formType },
      body: recordForm(canaryFields(c)),
    }),
  );
  const id = ((await created?.json().catch(() => ({}))) as { id?: string } | undefined)?.id;
  if (!id) return [...problems, `create answered ${created?.status}`];
  const read = await call("read", () => p.api(`${list}/${id}`, { token: user.token }));
  const record = (await read?.json().catch(() => ({}))) as Record<string, string> | undefined;
  if (record?.fullName !== c.fullName) problems.push("the record did not read back opened");
  const listed = await call("list", () => p.api(list, { token: user.token }));
  if (!(await listed?.text())?.includes(id)) problems.push("the list did not name the record");
  const images = imageClient(p.stack, user.token, p.client(user.token), p.edgeUrl);
  const fixture = jpegFixture({ width: 8, height: 8, keptBytes: Buffer.from(imageCanary) });
  try {
    const { ticket } = await images.upload(id, "image/jpeg", fixture.original);
    const download = await call("image download", () => images.download(id, ticket.imageId));
    const bytes = Buffer.from((await download?.arrayBuffer()) ?? new ArrayBuffer(0));
    if (!bytes.includes(Buffer.from(imageCanary))) problems.push("the image did not download opened");
  } catch (err) {
    if (!(err instanceof SealedAnswerError)) throw err;
    problems.push(`image: answer refused (${err.reason})`);
  }
  for (const res of sent) {
    const wire = rawAnswer(res);
    if (
      wire &&
      wire.status < 300 &&
      wire.body.byteLength > 0 &&
      !/sealed/.test(wire.headers.get("content-type") ?? "")
    )
      problems.push(`a ${wire.status} answer crossed unsealed`);
  }
  const hops = {
    "answers at CloudFront": p.viewerWire.recorded("answer", since.viewer),
    "requests past CloudFront": p.wire.recorded("request", since.wire),
    "answers past CloudFront": p.wire.recorded("answer", since.wire),
  };
  const canaries = { ...canaryFields(c), image: imageCanary };
  for (const [field, value] of Object.entries(canaries))
    for (const [hop, bytes] of Object.entries(hops))
      if (containsAny(bytes, canaryNeedles(value))) problems.push(`${field} in ${hop}`);
  return problems;
}
