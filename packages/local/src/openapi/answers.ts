/**
 * Checks real answers of the API against its OpenAPI description (docs/openapi.json): the status is one
 * the operation documents, every documented header is present when required and matches its schema,
 * and the body has a documented media type and matches its schema. A sealed answer is checked twice:
 * the wire answer against the sealed media type, and the plaintext the client opened against the
 * media type's `contentSchema`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sealedAnswer } from "@veil/core";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

type Json = { readonly [key: string]: unknown };

/** docs/openapi.json, as committed. */
export function readOpenApiDocument(): Json {
  return JSON.parse(readFileSync(join(import.meta.dirname, "../../../../docs/openapi.json"), "utf8")) as Json;
}

/** One answer as a client saw it. */
export interface ObservedAnswer {
  readonly method: string;
  /** The route's resource template, e.g. `/api/records/{id}`. */
  readonly resource: string;
  readonly status: number;
  /** The headers as they arrived (the wire answer, before any opening). */
  readonly headers: Headers;
  /** The body as it arrived. */
  readonly body: string | Uint8Array;
  /** For a sealed answer: its plaintext, opened by the client (parsed JSON for a buffered answer). */
  readonly opened?: unknown;
}

/** What `check` found: problems (empty when the answer matches) and whether the answer was sealed. */
export interface AnswerVerdict {
  readonly problems: string[];
  readonly sealed: boolean;
  /** A 2xx answer the description says is sealed that arrived in clear (allowed only when told). */
  readonly unsealed: boolean;
}

export interface AnswerCheckerOptions {
  /**
   * Accept a clear `application/json` (or raw stream) answer where the description documents a sealed
   * one, checking its body against `contentSchema`. Only for a stack that does not seal yet.
   */
  readonly allowUnsealed?: boolean;
}

/** A JSON Schema validator for the description's schemas (Ajv, draft 2020-12, strict, with formats). */
export function schemaValidator(doc: Json): (schema: unknown) => ValidateFunction {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats.default(ajv);
  for (const keyword of ["x-veil-sensitive", "x-veil-kind"]) ajv.addKeyword(keyword);
  const rewrite = (schema: unknown) =>
    JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"veil:openapi#/$defs/'));
  const components = (doc.components ?? {}) as Json;
  ajv.addSchema({ $id: "veil:openapi", $defs: rewrite(components.schemas ?? {}) });
  const cache = new Map<string, ValidateFunction>();
  return (schema) => {
    const key = JSON.stringify(schema);
    let validate = cache.get(key);
    if (!validate) {
      validate = ajv.compile(rewrite(schema));
      cache.set(key, validate);
    }
    return validate;
  };
}

const base64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Builds the checker of answers against `doc`.
 *
 * @example
 * const check = createAnswerChecker(readOpenApiDocument());
 * const { problems } = check({ method: "GET", resource: "/api/records", status: 200, headers, body });
 * expect(problems).toEqual([]);
 */
export function createAnswerChecker(doc: Json, options: AnswerCheckerOptions = {}) {
  const validator = schemaValidator(doc);
  const components = doc.components as Record<string, Record<string, Json>>;
  const resolve = (obj: Json | undefined): Json | undefined => {
    const ref = obj?.$ref;
    if (typeof ref !== "string") return obj;
    const [, section, name] = ref.replace("#/components/", "#/").split("/");
    return resolve(components[section ?? ""]?.[name ?? ""]);
  };
  const problemsOf = (schema: unknown, value: unknown, where: string): string[] => {
    const validate = validator(schema);
    return validate(value)
      ? []
      : (validate.errors ?? []).map((e) => `${where}${e.instancePath} ${e.message ?? "invalid"}`);
  };

  return (answer: ObservedAnswer): AnswerVerdict => {
    const label = `${answer.method} ${answer.resource} → ${answer.status}`;
    const paths = doc.paths as Record<string, Record<string, Json>>;
    const operation = paths[answer.resource]?.[answer.method.toLowerCase()];
    if (!operation) return { problems: [`${label}: no such operation`], sealed: false, unsealed: false };
    const response = resolve((operation.responses as Record<string, Json>)[String(answer.status)]);
    if (!response) return { problems: [`${label}: status not documented`], sealed: false, unsealed: false };

    const problems: string[] = [];
    const content = response.content as Record<string, Json> | undefined;
    const rawType = (answer.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    const text = typeof answer.body === "string" ? answer.body : Buffer.from(answer.body).toString("utf8");
    const size = typeof answer.body === "string" ? Buffer.byteLength(answer.body) : answer.body.length;
    let sealed = false;
    let unsealed = false;

    if (!content) {
      if (size > 0) problems.push(`${label}: a body where none is documented`);
    } else if (content[rawType]) {
      const schema = (content[rawType] as Json).schema as Json | undefined;
      if (rawType === sealedAnswer.contentType) {
        sealed = true;
        if (!base64.test(text) || size === 0) problems.push(`${label}: the sealed body is not base64`);
        if (answer.opened === undefined) problems.push(`${label}: the sealed answer was not opened`);
        else problems.push(...problemsOf(schema?.contentSchema, answer.opened, `${label}: plaintext`));
        if (answer.headers.get(sealedAnswer.plaintextTypeHeader) !== "application/json")
          problems.push(`${label}: ${sealedAnswer.plaintextTypeHeader} is not application/json`);
      } else if (rawType === sealedAnswer.streamContentType) {
        sealed = true;
        if (size === 0) problems.push(`${label}: an empty sealed stream`);
      } else if (rawType === "application/json") {
        problems.push(...parseAndCheck(text, schema, label));
      } else if (schema) {
        problems.push(...problemsOf(schema, text, `${label}: body`));
      }
    } else if (options.allowUnsealed && content[sealedAnswer.contentType] && rawType === "application/json") {
      unsealed = true;
      const schema = (content[sealedAnswer.contentType] as Json).schema as Json;
      problems.push(...parseAndCheck(text, schema.contentSchema, label));
    } else if (options.allowUnsealed && content[sealedAnswer.streamContentType]) {
      unsealed = true;
      if (size === 0) problems.push(`${label}: an empty stream`);
    } else {
      problems.push(`${label}: content-type "${rawType}", documented ${Object.keys(content).join(", ")}`);
    }

    for (const [name, value] of Object.entries((response.headers ?? {}) as Record<string, Json>)) {
      const h = resolve(value) as Json;
      const got = answer.headers.get(name);
      const onlyWhenSealed = name === sealedAnswer.plaintextTypeHeader && unsealed;
      if (got === null) {
        if (h.required === true && !onlyWhenSealed) problems.push(`${label}: header ${name} missing`);
      } else problems.push(...problemsOf(h.schema, got, `${label}: header ${name}`));
    }
    return { problems, sealed, unsealed };

    function parseAndCheck(body: string, schema: unknown, where: string): string[] {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return [`${where}: the body is not JSON`];
      }
      return problemsOf(schema, parsed, `${where}: body`);
    }
  };
}
