import { headers, ValidationError } from "@veil/core";
import {
  CiphertextError,
  ContextMismatchError,
  CryptoConfigError,
  FleDecryptError,
  FleFormatError,
  KmsUnavailableError,
} from "@veil/crypto";
import {
  ConflictError,
  DatabaseUnavailableError,
  IdempotencyConflictError,
  IdempotencyInProgressError,
  NotFoundError,
  QueryError,
  VersionConflictError,
} from "@veil/db";
import { ObjectNotFoundError, StorageConfigError, StorageUnavailableError } from "@veil/storage";
import { describe, expect, it } from "vitest";
import {
  HttpError,
  imageIntegrityError,
  toHttpError,
  toImageHttpError,
  UnauthorizedError,
} from "./errors.ts";
import { errorResponse } from "./http.ts";

/** Planted wherever a thrown error can carry text: it must never reach a response. */
const canary = "CANARY-4711-Erika-Mustermann";

const unavailable = { status: 503, error: "Unavailable", retryAfter: "2" };
const internal = { status: 500, error: "InternalError" };

/** Each typed error, its answer from the records mapper and from the image functions' mapper. */
const table: [string, () => unknown, Expected, Expected][] = [
  [
    "HttpError (as is)",
    () => new HttpError(418, "Teapot", "short and stout"),
    { status: 418, error: "Teapot" },
    { status: 418, error: "Teapot" },
  ],
  [
    "UnauthorizedError",
    () => new UnauthorizedError(),
    { status: 401, error: "Unauthorized" },
    { status: 401, error: "Unauthorized" },
  ],
  [
    "NotFoundError(record)",
    () => new NotFoundError("record"),
    { status: 404, error: "NotFound", message: "No such record" },
    { status: 404, error: "NotFound", message: "No such record" },
  ],
  [
    "NotFoundError(image)",
    () => new NotFoundError("image"),
    { status: 404, error: "NotFound", message: "No such image" },
    { status: 404, error: "NotFound", message: "No such image" },
  ],
  [
    "VersionConflictError",
    () => new VersionConflictError(1, 2),
    { status: 412, error: "PreconditionFailed" },
    { status: 412, error: "PreconditionFailed" },
  ],
  [
    "ConflictError",
    () => new ConflictError(canary, canary),
    { status: 409, error: "Conflict" },
    { status: 409, error: "Conflict" },
  ],
  [
    "IdempotencyInProgressError",
    () => new IdempotencyInProgressError(),
    { status: 409, error: "IdempotencyKeyInUse", retryAfter: "1" },
    { status: 409, error: "IdempotencyKeyInUse", retryAfter: "1" },
  ],
  [
    "IdempotencyConflictError",
    () => new IdempotencyConflictError(),
    { status: 422, error: "IdempotencyKeyReused" },
    { status: 422, error: "IdempotencyKeyReused" },
  ],
  ["DatabaseUnavailableError", () => new DatabaseUnavailableError(canary), unavailable, unavailable],
  ["QueryError", () => new QueryError("22P02", { table: canary, column: canary }), internal, internal],
  ["KmsUnavailableError", () => new KmsUnavailableError("Decrypt", canary), unavailable, unavailable],
  [
    "FleFormatError",
    () => new FleFormatError("notUtf8", canary),
    { status: 400, error: "BadRequest" },
    { status: 502, error: "ImageIntegrityError" },
  ],
  [
    "FleDecryptError",
    () => new FleDecryptError("undecryptable", canary),
    { status: 400, error: "BadRequest" },
    { status: 502, error: "ImageIntegrityError" },
  ],
  [
    "CiphertextError",
    () => new CiphertextError("tampered"),
    internal,
    { status: 502, error: "ImageIntegrityError" },
  ],
  [
    "ContextMismatchError",
    () => new ContextMismatchError([canary]),
    internal,
    { status: 502, error: "ImageIntegrityError" },
  ],
  [
    "CryptoConfigError",
    () => new CryptoConfigError(canary),
    internal,
    { status: 502, error: "ImageIntegrityError" },
  ],
  [
    "ObjectNotFoundError",
    () => new ObjectNotFoundError(canary),
    { status: 502, error: "ImageMissing" },
    { status: 502, error: "ImageMissing" },
  ],
  [
    "StorageUnavailableError",
    () => new StorageUnavailableError("GetObject", canary),
    unavailable,
    unavailable,
  ],
  ["StorageConfigError", () => new StorageConfigError(canary), internal, internal],
  ["Error", () => new Error(canary), internal, internal],
  ["a thrown string", () => canary, internal, internal],
  ["TypeError with a stack", () => new TypeError(`${canary} is not a function`), internal, internal],
];

interface Expected {
  readonly status: number;
  readonly error: string;
  readonly message?: string;
  readonly retryAfter?: string;
}

function answer(err: unknown, map: (err: unknown) => HttpError) {
  const res = errorResponse(map(err), "req-1");
  return { res, body: JSON.parse(res.body) as Record<string, unknown> };
}

describe("toHttpError", () => {
  describe.each([
    ["records (toHttpError)", toHttpError, 0],
    ["image functions (toImageHttpError)", toImageHttpError, 1],
  ] as const)("%s", (_, map, column) => {
    it.each(table)("%s", (_name, make, ...expected) => {
      const want = expected[column] as Expected;
      const { res, body } = answer(make(), map);
      expect(res.statusCode).toBe(want.status);
      expect(body.error).toBe(want.error);
      if (want.message) expect(body.message).toBe(want.message);
      expect(body.requestId).toBe("req-1");
      expect(res.headers?.[headers.requestId]).toBe("req-1");
      expect(res.headers?.["retry-after"]).toBe(want.retryAfter);
      // Only the stable code, a generic message and the request id: no value, no stack, no cause.
      expect(Object.keys(body).sort()).toEqual(["error", "message", "requestId"]);
      expect(res.body).not.toContain(canary);
      expect(res.body).not.toMatch(/\n\s+at |\.ts:\d+|node:internal/);
    });
  });

  it("answers a ValidationError with 400 and its issues by field and rule, never the values", () => {
    const err = new ValidationError([{ field: "birthDate", code: "invalid", message: "Use YYYY-MM-DD" }]);
    for (const map of [toHttpError, toImageHttpError]) {
      const { res, body } = answer(err, map);
      expect(res.statusCode).toBe(400);
      expect(body).toEqual({
        error: "ValidationError",
        message: "Some fields are invalid",
        requestId: "req-1",
        details: [{ field: "birthDate", code: "invalid", message: "Use YYYY-MM-DD" }],
      });
    }
  });

  it("lets a function decide what a crypto failure means, but never for a retryable one", () => {
    const teapot = () => new HttpError(418, "Teapot", "short and stout");
    expect(toHttpError(new CiphertextError("tampered"), { cryptoFailure: teapot }).status).toBe(418);
    expect(toHttpError(new KmsUnavailableError("Decrypt", "x"), { cryptoFailure: teapot }).status).toBe(503);
    expect(imageIntegrityError().message).not.toMatch(/tampered|wrongKey/);
  });
});
