import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { listen } from "../net.ts";
import { verifySigV4 } from "../sigv4/index.ts";

/** Who may call: access key → secret and ARN. */
export type PrincipalLookup = (accessKeyId: string) => { secret: string; arn: string } | undefined;

export interface LocalSecretsOptions {
  readonly port?: number;
  readonly host?: string;
  readonly stateDir: string;
  readonly region: string;
  readonly accountId?: string;
  readonly principals: PrincipalLookup;
}

interface SecretVersion {
  readonly versionId: string;
  readonly value: string;
  stages: string[];
  readonly created: number;
}
interface Secret {
  readonly name: string;
  readonly arn: string;
  /** Principal ARNs allowed to read the value (the secret's resource policy). */
  readers: string[];
  /** Principal ARNs allowed to create or put values. */
  writers: string[];
  versions: SecretVersion[];
}

export interface LocalSecrets {
  readonly endpoint: string;
  /** Creates or replaces a secret with its access lists (an operator-side action, done by the stack). */
  define(
    name: string,
    access: { readers: string[]; writers: string[] },
    initialValue?: string,
  ): Promise<string>;
  stop(): Promise<void>;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A small Secrets Manager (JSON 1.1 protocol): PutSecretValue (AWSCURRENT moves to AWSPREVIOUS; the
 * ClientRequestToken is the version id, idempotent as in AWS), GetSecretValue by stage or version,
 * DescribeSecret. Every request must be SigV4-signed by
 * a known principal, and each secret's access list is enforced. State lives in `stateDir`.
 */
export async function startLocalSecrets(options: LocalSecretsOptions): Promise<LocalSecrets> {
  const accountId = options.accountId ?? "000000000000";
  const file = join(options.stateDir, "secrets.json");
  await mkdir(options.stateDir, { recursive: true });
  const secrets = new Map<string, Secret>(
    existsSync(file) ? (JSON.parse(await readFile(file, "utf8")) as Secret[]).map((s) => [s.name, s]) : [],
  );
  let saving = Promise.resolve();
  const save = () => {
    saving = saving.then(async () => {
      const tmp = `${file}.tmp`;
      await writeFile(tmp, JSON.stringify([...secrets.values()]), { mode: 0o600 });
      await rename(tmp, file);
    });
    return saving;
  };
  const find = (id: unknown): Secret => {
    const key = String(id ?? "");
    const s = secrets.get(key) ?? [...secrets.values()].find((x) => x.arn === key);
    if (!s)
      throw new ApiError(
        400,
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret.",
      );
    return s;
  };
  const deny = (arn: string, action: string, s: Secret) =>
    new ApiError(
      400,
      "AccessDeniedException",
      `User: ${arn} is not authorized to perform: secretsmanager:${action} on resource: ${s.arn}`,
    );
  const put = (s: Secret, value: string, versionId: string = randomUUID()) => {
    for (const v of s.versions) v.stages = v.stages.filter((st) => st !== "AWSPREVIOUS");
    for (const v of s.versions) if (v.stages.includes("AWSCURRENT")) v.stages = ["AWSPREVIOUS"];
    s.versions = [
      ...s.versions.filter((v) => v.stages.length > 0),
      { versionId, value, stages: ["AWSCURRENT"], created: Date.now() / 1000 },
    ];
    return versionId;
  };

  const ops: Record<string, (body: Record<string, unknown>, caller: string) => unknown> = {
    GetSecretValue(body, caller) {
      const s = find(body.SecretId);
      if (!s.readers.includes(caller)) throw deny(caller, "GetSecretValue", s);
      const stage = typeof body.VersionStage === "string" ? body.VersionStage : "AWSCURRENT";
      const v = body.VersionId
        ? s.versions.find((x) => x.versionId === body.VersionId)
        : s.versions.find((x) => x.stages.includes(stage));
      if (!v)
        throw new ApiError(
          400,
          "ResourceNotFoundException",
          "Secrets Manager can't find the specified secret value.",
        );
      return {
        ARN: s.arn,
        Name: s.name,
        VersionId: v.versionId,
        SecretString: v.value,
        VersionStages: v.stages,
        CreatedDate: v.created,
      };
    },
    PutSecretValue(body, caller) {
      const s = find(body.SecretId);
      if (!s.writers.includes(caller)) throw deny(caller, "PutSecretValue", s);
      const value = String(body.SecretString ?? "");
      // The request token becomes the version id: a repeat with the same value changes nothing, a
      // repeat with another value is refused (so concurrent first writers cannot overwrite each other).
      const token = typeof body.ClientRequestToken === "string" ? body.ClientRequestToken : undefined;
      const same = token === undefined ? undefined : s.versions.find((v) => v.versionId === token);
      if (same) {
        if (same.value !== value)
          throw new ApiError(
            400,
            "ResourceExistsException",
            "A resource with the ID you requested already exists.",
          );
        return { ARN: s.arn, Name: s.name, VersionId: same.versionId, VersionStages: same.stages };
      }
      const versionId = put(s, value, token);
      return { ARN: s.arn, Name: s.name, VersionId: versionId, VersionStages: ["AWSCURRENT"] };
    },
    DescribeSecret(body, caller) {
      const s = find(body.SecretId);
      if (!s.readers.includes(caller) && !s.writers.includes(caller)) throw deny(caller, "DescribeSecret", s);
      return {
        ARN: s.arn,
        Name: s.name,
        VersionIdsToStages: Object.fromEntries(s.versions.map((v) => [v.versionId, v.stages])),
      };
    },
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const e =
        err instanceof ApiError
          ? err
          : new ApiError(500, "InternalServiceError", "An error occurred on the server side.");
      reply(res, e.status, { __type: e.type, message: e.message });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const auth = await verifySigV4(
      { method: req.method ?? "POST", url: req.url ?? "/", headers: req.headers, body },
      {
        service: "secretsmanager",
        region: options.region,
        secretFor: (id) => options.principals(id)?.secret,
      },
    );
    if (!auth.ok) {
      const type =
        auth.reason === "unknown-access-key" ? "UnrecognizedClientException" : "InvalidSignatureException";
      throw new ApiError(400, type, "The request signature could not be verified.");
    }
    const caller = options.principals(auth.accessKeyId)?.arn ?? "";
    const target = String(req.headers["x-amz-target"] ?? "");
    const op = ops[target.replace(/^secretsmanager\./, "")];
    if (!target.startsWith("secretsmanager.") || !op)
      throw new ApiError(400, "UnknownOperationException", "Unknown operation");
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(body.toString("utf8") || "{}") as Record<string, unknown>;
    } catch {
      throw new ApiError(400, "SerializationException", "Malformed request body");
    }
    const out = op(parsed, caller);
    if (target.endsWith("PutSecretValue")) await save();
    reply(res, 200, out);
  }

  await listen(server, options.port ?? 0, options.host ?? "127.0.0.1");
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async define(name, access, initialValue) {
      const arn = `arn:aws:secretsmanager:${options.region}:${accountId}:secret:${name}-${randomUUID().slice(0, 6)}`;
      const existing = secrets.get(name);
      const s: Secret = existing ?? { name, arn, readers: [], writers: [], versions: [] };
      s.readers = access.readers;
      s.writers = access.writers;
      secrets.set(name, s);
      if (
        initialValue !== undefined &&
        !s.versions.some((v) => v.stages.includes("AWSCURRENT") && v.value === initialValue)
      ) {
        put(s, initialValue);
      }
      await save();
      return s.arn;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function reply(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/x-amz-json-1.1",
    "content-length": Buffer.byteLength(text),
    "x-amzn-requestid": randomUUID(),
  });
  res.end(text);
}
