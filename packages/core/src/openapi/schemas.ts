/**
 * The component schemas of the API description (JSON Schema 2020-12), derived from the data
 * classification so that a field added to `recordFields` shows up, with its limits and its sensitivity,
 * without an edit here.
 */
import { exportImagesPerRecord, imageLimits } from "../api.ts";
import {
  categories,
  type RecordFieldName,
  recordFields,
  sensitiveFields,
  writableFields,
} from "../classification.ts";
import { anchored, piiShapes, resourceIdShape } from "../patterns.ts";
import { proofOfPossession, sealedAnswer } from "../sealing.ts";

/** A JSON Schema (2020-12) object, as the description holds it. */
export type JsonSchema = { readonly [key: string]: unknown };

/** `#/components/schemas/<name>`. */
export const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

/** Marks a sensitive value: clients must treat it as health data (never log, cache or index it). */
export const sensitiveExtension = "x-veil-sensitive";

const formats: Partial<Record<RecordFieldName, string>> = {
  id: "uuid",
  dateOfBirth: "date",
  email: "email",
  createdAt: "date-time",
  updatedAt: "date-time",
};

const patterns: Partial<Record<RecordFieldName, string>> = {
  id: anchored(resourceIdShape).source,
  dateOfBirth: anchored(piiShapes.date).source,
  email: anchored(piiShapes.email).source,
  phone: anchored(piiShapes.phone).source,
};

/** The schema of one record field: its type and limits from the classification. */
export function fieldSchema(name: RecordFieldName): JsonSchema {
  const spec = recordFields[name];
  const sensitive = spec.classification === "high";
  return {
    type: "string",
    title: spec.label,
    maxLength: spec.maxLength,
    ...(spec.kind === "category" ? { enum: [...categories] } : {}),
    ...(formats[name] ? { format: formats[name] } : {}),
    ...(patterns[name] ? { pattern: patterns[name] } : {}),
    "x-veil-kind": spec.kind,
    ...(sensitive ? { [sensitiveExtension]: true } : {}),
  };
}

const isoTime = { type: "string", format: "date-time" } as const;
const resourceId = { type: "string", format: "uuid", pattern: anchored(resourceIdShape).source } as const;

/** The fields of a record form (create and update), as the client sends them before the edge. */
function recordForm(): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const name of writableFields) {
    const sensitive = recordFields[name].classification === "high";
    properties[name] = {
      ...fieldSchema(name),
      ...(sensitive
        ? {
            description:
              "Sensitive: CloudFront replaces it with field-level-encryption ciphertext at the edge; only the function decrypts it.",
          }
        : {}),
    };
  }
  return {
    type: "object",
    description:
      "A record as a url-encoded form. Send every field once; an empty value means 'not given'. An update replaces every field.",
    properties,
    required: writableFields.filter((n) => recordFields[n].required),
    additionalProperties: false,
  };
}

const metadataFields = ["id", "category", "createdAt", "updatedAt"] as const;

function recordMetadata(): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const name of metadataFields) properties[name] = fieldSchema(name);
  properties.version = {
    type: "integer",
    minimum: 1,
    description: "Increments with every update; the ETag is this number in quotes.",
  };
  return {
    type: "object",
    description: "What lists show of a record: never a sensitive value.",
    properties,
    required: [...metadataFields, "version"],
    additionalProperties: false,
  };
}

function fullRecord(): JsonSchema {
  const metadata = recordMetadata() as { properties: Record<string, JsonSchema>; required: string[] };
  const properties: Record<string, JsonSchema> = { ...metadata.properties };
  for (const name of sensitiveFields) properties[name] = fieldSchema(name);
  return {
    type: "object",
    description: "A record with its decrypted fields; a field never given is absent.",
    properties,
    required: [...metadata.required, ...sensitiveFields.filter((n) => recordFields[n].required)],
    additionalProperties: false,
  };
}

/**
 * The sensitive fields a list item may carry: those of its `view` (`names`: `fullName`, `dateOfBirth`;
 * `search`: these too; `metadata`: none). Present only when the record has them.
 */
export const listItemFields = ["fullName", "dateOfBirth", "insuranceNumber", "diagnosis"] as const;

function recordListItem(): JsonSchema {
  const metadata = recordMetadata() as { properties: Record<string, JsonSchema>; required: string[] };
  const properties: Record<string, JsonSchema> = { ...metadata.properties };
  for (const name of listItemFields) properties[name] = fieldSchema(name);
  return {
    type: "object",
    description:
      "A record as a list shows it: its metadata and the sensitive fields of the list's `view` (none for `metadata`).",
    properties,
    required: metadata.required,
    additionalProperties: false,
  };
}

const exportedImage: JsonSchema = {
  type: "object",
  description: "An image as the export lists it: what the archive needs to fetch and name it.",
  properties: {
    id: resourceId,
    status: { type: "string", enum: ["pending", "ready", "rejected"] },
    contentType: { type: "string", enum: [...imageLimits.contentTypes] },
    size: {
      type: "integer",
      minimum: 1,
      maximum: imageLimits.maxBytes,
      description: "Plaintext bytes (ready).",
    },
    reason: {
      type: "string",
      description: "Why the ingest refused the upload (status `rejected`).",
      enum: ["tooLarge", "unsupportedType", "typeMismatch", "corrupt", "undecryptable", "expired"],
    },
    createdAt: isoTime,
  },
  required: ["id", "status", "contentType", "createdAt"],
  additionalProperties: false,
};

function exportedRecord(): JsonSchema {
  const record = fullRecord() as { properties: Record<string, JsonSchema>; required: string[] };
  return {
    type: "object",
    description: "A record with every field decrypted and its images, oldest first.",
    properties: {
      ...record.properties,
      images: {
        type: "array",
        items: ref("ExportedImage"),
        maxItems: exportImagesPerRecord,
        description: `The record's images, oldest first: at most ${exportImagesPerRecord}.`,
      },
      imagesOmitted: {
        type: "integer",
        minimum: 1,
        description: `How many images of the record are not in \`images\` (it has more than ${exportImagesPerRecord}); \`GET /api/records/{id}/images\` lists them all. Absent when none are.`,
      },
    },
    required: [...record.required, "images"],
    additionalProperties: false,
  };
}

const count = { type: "integer", minimum: 0 } as const;

const accountErasure: JsonSchema = {
  type: "object",
  description: "What an account erasure did, as counts: never an id or a value.",
  properties: {
    erased: {
      type: "object",
      properties: {
        records: { ...count, description: "Records deleted." },
        images: { ...count, description: "Image rows deleted." },
        idempotencyKeys: { ...count, description: "Idempotency keys deleted." },
        auditEvents: { ...count, description: "Audit events made non-identifying." },
        inboxObjects: {
          ...count,
          description: "Uploads not yet ingested (of pending images) given a delete marker by this call.",
        },
        imageObjects: {
          ...count,
          description:
            "Stored images given a delete marker by this call; any left over are deleted by the scheduled image cleanup.",
        },
        user: {
          type: "string",
          enum: ["deleted", "absent"],
          description: "The Cognito user: deleted now, or already gone (a repeated erasure).",
        },
      },
      required: [
        "records",
        "images",
        "idempotencyKeys",
        "auditEvents",
        "inboxObjects",
        "imageObjects",
        "user",
      ],
      additionalProperties: false,
    },
  },
  required: ["erased"],
  additionalProperties: false,
};

const fieldIssue: JsonSchema = {
  type: "object",
  description: "One problem with one field: names the field and the rule, never the value.",
  properties: {
    field: { type: "string", maxLength: 64 },
    code: { type: "string", examples: ["required", "tooLong", "invalid", "unknown", "duplicate"] },
    message: { type: "string" },
  },
  required: ["field", "code", "message"],
  additionalProperties: false,
};

const image: JsonSchema = {
  type: "object",
  description: "An image of a record: metadata and status, never a storage key or version.",
  properties: {
    id: resourceId,
    recordId: resourceId,
    status: { type: "string", enum: ["pending", "ready", "rejected"] },
    reason: {
      type: "string",
      description: "Why the ingest refused the upload (status `rejected`).",
      enum: ["tooLarge", "unsupportedType", "typeMismatch", "corrupt", "undecryptable", "expired"],
    },
    contentType: { type: "string", enum: [...imageLimits.contentTypes] },
    size: { type: "integer", minimum: 1, maximum: imageLimits.maxBytes, description: "Plaintext bytes." },
    createdAt: isoTime,
    updatedAt: isoTime,
    href: { type: "string", description: "Where to download it (status `ready`)." },
  },
  required: ["id", "recordId", "status", "contentType", "createdAt", "updatedAt"],
  additionalProperties: false,
};

const imageUpload: JsonSchema = {
  type: "object",
  description:
    "A pending image and how to upload it: encrypt the file as one Encryption SDK message under `publicKey` with `encryption`, then send it with `uploadMethod` to `uploadUrl` with `uploadHeaders` before `expiresAt`.",
  properties: {
    ...(image.properties as Record<string, JsonSchema>),
    imageId: resourceId,
    uploadUrl: { type: "string", format: "uri" },
    uploadMethod: { const: "PUT" },
    uploadHeaders: { type: "object", additionalProperties: { type: "string" } },
    expiresAt: isoTime,
    publicKey: {
      type: "object",
      description: "The edge's RSA public key (SPKI PEM) and its raw RSA keyring names.",
      properties: { pem: { type: "string" }, providerId: { type: "string" }, keyName: { type: "string" } },
      required: ["pem", "providerId", "keyName"],
      additionalProperties: false,
    },
    encryption: {
      type: "object",
      properties: {
        format: { const: "aws-encryption-sdk-message-v1" },
        algorithmSuiteId: { type: "integer" },
        frameLength: { type: "integer" },
        encryptionContext: { type: "object", additionalProperties: { type: "string" } },
        contentLength: { type: "integer", description: "The exact length of the encrypted upload." },
      },
      required: ["format", "algorithmSuiteId", "frameLength", "encryptionContext", "contentLength"],
      additionalProperties: false,
    },
  },
  required: [
    ...(image.required as string[]),
    "imageId",
    "uploadUrl",
    "uploadMethod",
    "uploadHeaders",
    "expiresAt",
    "publicKey",
    "encryption",
  ],
  additionalProperties: false,
};

const sealPublicKey: JsonSchema = {
  type: "object",
  description: `The browser's public sealing key (RSA-OAEP-256, ${sealedAnswer.rsaModulusBits}-bit modulus) as a JWK.`,
  properties: {
    kty: { const: "RSA" },
    n: { type: "string", contentEncoding: "base64url" },
    e: { type: "string", contentEncoding: "base64url" },
    alg: { const: "RSA-OAEP-256" },
    use: { const: "enc" },
  },
  required: ["kty", "n", "e", "alg", "use"],
};

/** Every component schema of the description, by name. */
export function componentSchemas(): Record<string, JsonSchema> {
  return {
    RecordForm: recordForm(),
    RecordMetadata: recordMetadata(),
    Record: fullRecord(),
    RecordList: {
      type: "object",
      properties: {
        items: { type: "array", items: ref("RecordListItem") },
        nextCursor: {
          type: "string",
          description: "Pass as `cursor` for the next page; absent on the last.",
        },
      },
      required: ["items"],
      additionalProperties: false,
    },
    RecordListItem: recordListItem(),
    ExportPage: {
      type: "object",
      properties: {
        items: { type: "array", items: ref("ExportedRecord") },
        nextCursor: {
          type: "string",
          description: "Pass as `cursor` for the next page; absent on the last.",
        },
      },
      required: ["items"],
      additionalProperties: false,
    },
    ExportedRecord: exportedRecord(),
    ExportedImage: exportedImage,
    AccountErasure: accountErasure,
    AuditTrail: {
      type: "object",
      description: "Who did what to the record, oldest first.",
      properties: {
        items: {
          type: "array",
          items: {
            type: "object",
            properties: {
              action: {
                type: "string",
                examples: ["create", "read", "list", "export", "update", "delete", "image.download"],
              },
              actor: { type: "string", enum: ["you", "another principal"] },
              at: isoTime,
              requestId: { type: ["string", "null"] },
            },
            required: ["action", "actor", "at", "requestId"],
            additionalProperties: false,
          },
        },
      },
      required: ["items"],
      additionalProperties: false,
    },
    ImageAnnouncement: {
      type: "object",
      description: "An upload to come, as a url-encoded form.",
      properties: {
        contentType: { type: "string", enum: [...imageLimits.contentTypes] },
        size: {
          type: "integer",
          minimum: 1,
          maximum: imageLimits.maxBytes,
          description: "The file's plaintext size in bytes; a larger one gets 413.",
        },
      },
      required: ["contentType", "size"],
      additionalProperties: false,
    },
    Image: image,
    ImageList: {
      type: "object",
      properties: { items: { type: "array", items: ref("Image") } },
      required: ["items"],
      additionalProperties: false,
    },
    ImageUpload: imageUpload,
    Error: {
      type: "object",
      description:
        "An error of the API: a stable code, a generic message and the request id; never a stack or a value.",
      properties: {
        error: { type: "string", pattern: "^[A-Za-z]+$", examples: ["ValidationError", "NotFound"] },
        message: { type: "string" },
        requestId: { type: "string", minLength: 1 },
        details: { type: "array", items: ref("FieldIssue") },
      },
      required: ["error", "message", "requestId"],
      additionalProperties: false,
    },
    PlatformError: {
      type: "object",
      description:
        "An error of the platform in front of the API (API Gateway, the local CloudFront), with its own wording.",
      properties: { message: { type: "string" }, requestId: { type: "string" } },
      required: ["message"],
      additionalProperties: false,
    },
    FieldIssue: fieldIssue,
    SealPublicKey: sealPublicKey,
    DpopProofHeader: {
      type: "object",
      description: "The protected header of a DPoP proof (RFC 9449).",
      properties: {
        typ: { const: proofOfPossession.type },
        alg: { const: proofOfPossession.algorithm },
        jwk: {
          type: "object",
          description:
            "The proof key's public half (ECDSA P-256); its RFC 7638 thumbprint binds the session.",
          properties: {
            kty: { const: "EC" },
            crv: { const: "P-256" },
            x: { type: "string" },
            y: { type: "string" },
          },
          required: ["kty", "crv", "x", "y"],
        },
      },
      required: ["typ", "alg", "jwk"],
    },
    DpopProofClaims: {
      type: "object",
      description: "The claims of a DPoP proof (RFC 9449), with Veil's sealing key claim.",
      properties: {
        htm: { type: "string", description: "The request's method." },
        htu: {
          type: "string",
          format: "uri",
          description: "The request's URL without query or fragment (`https://<host><path>`).",
        },
        iat: {
          type: "integer",
          description: `Seconds since the epoch; at most ${proofOfPossession.maxAgeSeconds} s old and ${proofOfPossession.maxFutureSeconds} s ahead.`,
        },
        jti: {
          type: "string",
          minLength: 22,
          description:
            "Random, at least 128 bits, base64url; used once. The answer's encryption context names it.",
        },
        ath: { type: "string", description: "base64url of the SHA-256 of the access token." },
        [proofOfPossession.sealKeyClaim]: ref("SealPublicKey"),
      },
      required: ["htm", "htu", "iat", "jti", "ath", proofOfPossession.sealKeyClaim],
    },
  };
}
