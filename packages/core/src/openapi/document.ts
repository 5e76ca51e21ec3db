/**
 * Builds the OpenAPI 3.1 description of the API from the route tables, the route descriptions
 * (./routes.ts) and the component schemas (./schemas.ts): security (bearer token plus DPoP proof),
 * url-encoded request bodies, sealed answers and the error body of every status a route can give.
 */
import { accountRoutes, exportPageLimit, imageRoutes, recordRoutes } from "../api.ts";
import { fleContentType } from "../body-guard.ts";
import { headers as headerNames, idempotencyKeyPattern } from "../headers.ts";
import { anchored, resourceIdShape } from "../patterns.ts";
import { proofOfPossession, sealedAnswer } from "../sealing.ts";
import { type HeaderName, type ParameterName, type RouteDoc, routeDocs } from "./routes.ts";
import { componentSchemas, type JsonSchema, ref } from "./schemas.ts";

/** A route of a route table. */
export interface ApiRoute {
  readonly method: string;
  readonly resource: string;
  readonly transfer?: string;
}

/**
 * Every route table the API is served from, by the function family serving it. A new table must be
 * listed here to be described (core's tests notice a table of `api.ts` that is not).
 */
export const apiRouteTables: Readonly<Record<string, readonly ApiRoute[]>> = {
  records: recordRoutes,
  images: imageRoutes,
  account: accountRoutes,
};

/**
 * How sealed answers are made (the `x-veil-sealing` extension of the description). The suite and the
 * commitment policy are the Encryption SDK's names; a client opens an answer with the stock SDK.
 */
export const sealingDescription = {
  format: "aws-encryption-sdk-message",
  keyring: {
    type: "raw-rsa",
    keyNamespace: sealedAnswer.keyNamespace,
    keyName: `RFC 7638 thumbprint (SHA-256, base64url) of the request's \`${proofOfPossession.sealKeyClaim}\` JWK`,
    padding: "OAEP-SHA256",
    modulusBits: sealedAnswer.rsaModulusBits,
  },
  algorithmSuite: sealedAnswer.algorithmSuite,
  commitmentPolicy: sealedAnswer.commitmentPolicy,
  encryptionContext: {
    [sealedAnswer.contextVersionKey]: sealedAnswer.contextVersion,
    [sealedAnswer.contextProofKey]: "<jti of the request's DPoP proof>",
  },
  bufferedContentType: sealedAnswer.contentType,
  streamedContentType: sealedAnswer.streamContentType,
  streamFrameLength: sealedAnswer.frameLength,
  plaintextTypeHeader: sealedAnswer.plaintextTypeHeader,
} as const;

/** Statuses every route can answer, whatever it does. */
export const commonErrors = [401, 403, 429, 500, 502, 503, 504] as const;

/** What each error status means; `from` says who answers it, which decides its body. */
const statusCatalog: Record<number, { description: string; from: "api" | "platform" | "both" }> = {
  400: {
    description: "Bad request: a malformed header, query or form, or invalid fields (`details`).",
    from: "api",
  },
  401: {
    description: "Unauthorized: the access token or the DPoP proof is missing, invalid, stale or replayed.",
    from: "api",
  },
  403: { description: "Forbidden by the platform before the API (WAF rule, gateway).", from: "platform" },
  404: {
    description: "No such record, image or route for this caller (also any other spelling of an id).",
    from: "api",
  },
  405: {
    description: "Method not allowed: CloudFront refuses PUT and PATCH bodies (they are never encrypted).",
    from: "api",
  },
  409: {
    description:
      "Conflict: a request with this Idempotency-Key is in progress (`Retry-After`), or the image is not ready.",
    from: "api",
  },
  412: {
    description: "Precondition failed: `If-Match` names another version; reload and try again.",
    from: "api",
  },
  413: {
    description: "Too large: an image over the limit (API), or a body over the platform's limit.",
    from: "both",
  },
  415: {
    description: `Unsupported media type: send the body as ${fleContentType}, once, without parameters or encoding.`,
    from: "api",
  },
  422: { description: "This Idempotency-Key was used for a different request.", from: "api" },
  428: { description: "Precondition required: send `If-Match` with the record's ETag.", from: "api" },
  429: { description: "Too many requests: throttled by the gateway.", from: "platform" },
  500: { description: "Something went wrong on our side.", from: "api" },
  502: {
    description:
      "A stored image failed its integrity check or is missing, or the platform got no valid answer.",
    from: "both",
  },
  503: { description: "A dependency is unavailable; retry after `Retry-After` seconds.", from: "api" },
  504: { description: "The platform timed out waiting for the API.", from: "platform" },
};

const retryAfterStatuses = new Set([409, 503]);

const header = (description: string, schema: JsonSchema, required = false) => ({
  description,
  required,
  schema,
});

/** The response headers, by their component name; `sealedType` and `requestId` are always sent. */
const responseHeaders: Record<
  HeaderName | "requestId" | "errorRequestId" | "retryAfter" | "sealedType",
  JsonSchema
> = {
  requestId: header("Correlates the request across hops.", { type: "string", minLength: 1 }, true),
  errorRequestId: header("The error body's `requestId` (absent on the platform's own errors).", {
    type: "string",
    minLength: 1,
  }),
  etag: header('The record\'s version in quotes (`"3"`): send it as `If-Match` to update or delete.', {
    type: "string",
    pattern: '^"[0-9]{1,9}"$',
  }),
  location: header("The path of what was created.", { type: "string", pattern: "^/api/" }),
  idempotentReplayed: header("`true` when a retry with the same Idempotency-Key got the first result.", {
    const: "true",
  }),
  contentDisposition: header("`attachment` with a file name.", { type: "string" }),
  retryAfter: header("Seconds to wait before retrying.", { type: "string", pattern: "^[0-9]+$" }),
  sealedType: header("The media type of the sealed plaintext.", { type: "string" }, true),
};

/** The header each component describes, as sent. */
const headerWireNames: Record<keyof typeof responseHeaders, string> = {
  requestId: headerNames.requestId,
  errorRequestId: headerNames.requestId,
  etag: "ETag",
  location: "Location",
  idempotentReplayed: "Idempotent-Replayed",
  contentDisposition: "Content-Disposition",
  retryAfter: "Retry-After",
  sealedType: sealedAnswer.plaintextTypeHeader,
};

/** `{ <wire name>: $ref }` of the named header components. */
function headerRefs(names: readonly (keyof typeof responseHeaders)[]): Record<string, JsonSchema> {
  return Object.fromEntries(names.map((n) => [headerWireNames[n], { $ref: `#/components/headers/${n}` }]));
}

const idSchema = { type: "string", format: "uuid", pattern: anchored(resourceIdShape).source };

const parameters: Record<ParameterName, JsonSchema> = {
  recordId: {
    name: "id",
    in: "path",
    required: true,
    description:
      "The record's id, exactly as returned (lower-case UUID); any other spelling is answered 404.",
    schema: idSchema,
  },
  imageId: {
    name: "imageId",
    in: "path",
    required: true,
    description: "The image's id, exactly as returned (lower-case UUID).",
    schema: idSchema,
  },
  view: {
    name: "view",
    in: "query",
    description:
      "What each item carries besides its metadata: `names` (the default) `fullName` and `dateOfBirth`; `search` also `insuranceNumber` and `diagnosis` (what the browser searches in); `metadata` nothing sensitive (nothing is decrypted or audited). Another value, or the parameter given twice, is 400.",
    schema: { type: "string", enum: ["names", "search", "metadata"], default: "names" },
  },
  limit: {
    name: "limit",
    in: "query",
    description: "Records per page (digits only). Given twice, 400.",
    schema: { type: "integer", minimum: 1, maximum: 100 },
  },
  exportLimit: {
    name: "limit",
    in: "query",
    description: `Records per page; ${exportPageLimit} when absent.`,
    schema: { type: "integer", minimum: 1, maximum: exportPageLimit, default: exportPageLimit },
  },
  cursor: {
    name: "cursor",
    in: "query",
    description: "The `nextCursor` of the previous page.",
    schema: { type: "string" },
  },
  ifMatch: {
    name: "If-Match",
    in: "header",
    required: true,
    description: 'The ETag of the version the update is based on (`"3"`).',
    schema: { type: "string" },
  },
  ifMatchOptional: {
    name: "If-Match",
    in: "header",
    description: "When given, the delete happens only if the record is still at this version.",
    schema: { type: "string" },
  },
  idempotencyKey: {
    name: "Idempotency-Key",
    in: "header",
    description: "Makes a retried create return the first result (8-128 characters).",
    schema: { type: "string", pattern: idempotencyKeyPattern.source },
  },
};

/** The content of a buffered answer: base64 of an Encryption SDK message sealing `schema`'s JSON. */
function sealedContent(schema: string): JsonSchema {
  return {
    [sealedAnswer.contentType]: {
      schema: {
        type: "string",
        description: `base64 of an AWS Encryption SDK message (\`${sealedAnswer.streamContentType}\`) sealed to the request's \`${proofOfPossession.sealKeyClaim}\` key; its plaintext, of type \`${sealedAnswer.plaintextTypeHeader}\` (application/json), is \`contentSchema\`. See \`x-veil-sealing\`.`,
        contentEncoding: "base64",
        contentMediaType: sealedAnswer.streamContentType,
        contentSchema: ref(schema),
      },
    },
  };
}

function successResponse(success: RouteDoc["success"]): JsonSchema {
  const headers = headerRefs([
    "requestId",
    ...(success.headers ?? []),
    ...(success.body || success.stream ? (["sealedType"] as const) : []),
  ]);
  const content = success.stream
    ? {
        [sealedAnswer.streamContentType]: {
          schema: {
            description: `An AWS Encryption SDK message (framed, ${sealedAnswer.frameLength / 1024} KiB frames) sealing the image's bytes; \`${sealedAnswer.plaintextTypeHeader}\` is the image's type. See \`x-veil-sealing\`.`,
          },
        },
      }
    : success.body
      ? sealedContent(success.body)
      : undefined;
  return { description: success.description, headers, ...(content ? { content } : {}) };
}

function errorResponse(status: number): JsonSchema {
  const entry = statusCatalog[status];
  if (!entry) throw new Error(`no description of the status ${status}`);
  const schema =
    entry.from === "api"
      ? ref("Error")
      : entry.from === "platform"
        ? ref("PlatformError")
        : { anyOf: [ref("Error"), ref("PlatformError")] };
  const headers = headerRefs([
    "errorRequestId",
    ...(retryAfterStatuses.has(status) ? (["retryAfter"] as const) : []),
  ]);
  // CloudFront and WAF answer their own errors with an HTML page.
  const html = entry.from === "api" ? {} : { "text/html": { schema: { type: "string" } } };
  return {
    description: entry.description,
    headers,
    content: { "application/json": { schema }, ...html },
  };
}

function operation(route: ApiRoute, doc: RouteDoc): JsonSchema {
  const responses: Record<string, JsonSchema> = {
    [String(doc.success.status)]: successResponse(doc.success),
  };
  for (const status of [...new Set([...doc.errors, ...commonErrors])].sort((a, b) => a - b))
    responses[String(status)] = { $ref: `#/components/responses/E${status}` };
  return {
    operationId: doc.operationId,
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: [doc.tag],
    ...(doc.parameters?.length
      ? { parameters: doc.parameters.map((p) => ({ $ref: `#/components/parameters/${p}` })) }
      : {}),
    ...(doc.form
      ? {
          requestBody: {
            required: true,
            description: `Only ${fleContentType} (exactly, once): the one body CloudFront's field-level encryption encrypts. Fields marked \`x-veil-sensitive\` leave the edge as ciphertext.`,
            content: { [fleContentType]: { schema: ref(doc.form) } },
          },
        }
      : {}),
    responses,
    ...(route.transfer === "STREAM" ? { "x-veil-transfer": "STREAM" } : {}),
  };
}

/** `"METHOD /resource"` of each route. */
export const routeKey = (r: ApiRoute): string => `${r.method} ${r.resource}`;

/**
 * The routes of `tables` without a description in `docs`, and the descriptions of no route. Both must be
 * empty for the description to be built.
 */
export function undocumentedRoutes(
  tables: Readonly<Record<string, readonly ApiRoute[]>> = apiRouteTables,
  docs: Readonly<Record<string, RouteDoc>> = routeDocs,
): { undocumented: string[]; unrouted: string[] } {
  const routed = Object.values(tables).flat().map(routeKey);
  return {
    undocumented: routed.filter((k) => !docs[k]),
    unrouted: Object.keys(docs).filter((k) => !routed.includes(k)),
  };
}

/** Options of `buildOpenApiDocument` (defaults: the real tables and descriptions). */
export interface OpenApiOptions {
  readonly tables?: Readonly<Record<string, readonly ApiRoute[]>>;
  readonly docs?: Readonly<Record<string, RouteDoc>>;
}

const infoDescription = [
  "Veil keeps health records unreadable to every operator: only the signed-in owner, and the code acting for them, sees plaintext.",
  "",
  `**Requests.** Every request carries the Cognito access token (\`Authorization: Bearer …\`) and a DPoP proof (RFC 9449) in the \`DPoP\` header, signed with a key only the client holds (${proofOfPossession.algorithm}); its \`${proofOfPossession.sealKeyClaim}\` claim carries the client's public sealing key. Write bodies are \`${fleContentType}\` only: CloudFront encrypts the sensitive fields (\`x-veil-sensitive\`) with field-level encryption, so they cross the platform as ciphertext.`,
  "",
  `**Answers.** Every successful answer with a body is sealed inside the function to the proof's \`${proofOfPossession.sealKeyClaim}\` key: one AWS Encryption SDK message (raw RSA keyring \`${sealedAnswer.keyNamespace}\`, OAEP-SHA256, committing suite), base64 as \`${sealedAnswer.contentType}\` or binary and streamed as \`${sealedAnswer.streamContentType}\`, with the plaintext's type in \`${sealedAnswer.plaintextTypeHeader}\`. The encryption context carries the proof's \`jti\`: refuse an answer that does not. Each response schema's \`contentSchema\` is the plaintext. Errors are never sealed and never carry a value: \`{ error, message, requestId, details? }\`.`,
].join("\n");

/**
 * Builds the OpenAPI 3.1 description of the API. Throws when a route has no description or a
 * description no route, so that the writer and the tests fail on either.
 *
 * @example
 * const doc = buildOpenApiDocument();
 * writeFileSync("docs/openapi.json", `${JSON.stringify(doc, null, 2)}\n`);
 */
export function buildOpenApiDocument(options: OpenApiOptions = {}): Record<string, unknown> {
  const tables = options.tables ?? apiRouteTables;
  const docs = options.docs ?? (routeDocs as Readonly<Record<string, RouteDoc>>);
  const { undocumented, unrouted } = undocumentedRoutes(tables, docs);
  if (undocumented.length > 0 || unrouted.length > 0) {
    throw new Error(
      [
        ...(undocumented.length
          ? [
              `routes without a description in packages/core/src/openapi/routes.ts: ${undocumented.join(", ")}`,
            ]
          : []),
        ...(unrouted.length ? [`descriptions of no route: ${unrouted.join(", ")}`] : []),
      ].join("; "),
    );
  }
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of Object.values(tables).flat()) {
    const doc = docs[routeKey(route)] as RouteDoc;
    paths[route.resource] ??= {};
    (paths[route.resource] as Record<string, JsonSchema>)[route.method.toLowerCase()] = operation(route, doc);
  }
  const usedStatuses = new Set<number>(commonErrors);
  for (const doc of Object.values(docs)) for (const s of doc.errors) usedStatuses.add(s);
  const responses: Record<string, JsonSchema> = {};
  for (const s of [...usedStatuses].sort((a, b) => a - b)) responses[`E${s}`] = errorResponse(s);
  return {
    openapi: "3.1.0",
    jsonSchemaDialect: "https://spec.openapis.org/oas/3.1/dialect/base",
    info: {
      title: "Veil API",
      version: "1",
      summary: "Operator-blind health records: proof-of-possession requests, sealed answers.",
      description: infoDescription,
      license: { name: "Apache-2.0", identifier: "Apache-2.0" },
    },
    servers: [
      {
        url: "/",
        description:
          "The stage's CloudFront distribution (the only public entry); locally http://localhost:4510.",
      },
    ],
    security: [{ bearer: [], dpop: [] }],
    tags: [
      { name: "records", description: "Patient records, their audit trail and their export." },
      { name: "images", description: "Images of a record: encrypted uploads, sealed downloads." },
      { name: "account", description: "The caller's account: its erasure." },
    ],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description:
            "The Cognito access token of the signed-in user (with `origin_jti`); bound on first use to the DPoP proof key.",
        },
        dpop: {
          type: "apiKey",
          in: "header",
          name: "DPoP",
          description: `A DPoP proof JWT (RFC 9449), fresh for every request: header \`DpopProofHeader\` (typ \`${proofOfPossession.type}\`, alg \`${proofOfPossession.algorithm}\`, the public \`jwk\`), claims \`DpopProofClaims\`: \`htm\`, \`htu\` (https://<host><path>), \`iat\` (at most ${proofOfPossession.maxAgeSeconds} s old), \`jti\` (never reused), \`ath\` (hash of the access token) and \`${proofOfPossession.sealKeyClaim}\` (the public sealing key answers are sealed to). A missing, forged, stale or replayed proof, or another key for the same sign-in, gets 401.`,
        },
      },
      parameters,
      headers: responseHeaders,
      responses,
      schemas: componentSchemas(),
    },
    "x-veil-sealing": sealingDescription,
  };
}
