/**
 * Sealing answers to the caller's browser: every 2xx answer with a body leaves the function as one
 * Encryption SDK message encrypted to the caller's sealing key and bound to the request's proof
 * (`@veil/crypto` `sealAnswer`), so the hops after the function carry ciphertext only. Routes keep
 * returning plain `json(...)`; `createApiHandler` seals centrally. Errors stay generic and unsealed.
 */
import type { Duplex } from "node:stream";
import { sealedAnswer } from "@veil/core";
import { EncryptError, sealAnswer, sealAnswerStream } from "@veil/crypto";
import type { APIGatewayProxyResult } from "aws-lambda";
import type { Caller } from "./auth.ts";

/** Seals answers; a dependency of every API function, so a test build can switch it off. */
export interface AnswerSealer {
  /** A 2xx answer with a body, sealed to the caller's key; any other answer unchanged. */
  seal(result: APIGatewayProxyResult, caller: Caller): Promise<APIGatewayProxyResult>;
  /**
   * A stream to write a streamed answer's plaintext into (read the sealed message from it), and the
   * headers announcing it. The key is checked before it returns: nothing has been sent yet.
   */
  sealStream(
    caller: Caller,
    plaintextType: string,
  ): Promise<{ readonly stream: Duplex; readonly headers: Record<string, string> }>;
}

/** The media type without parameters (`application/json; charset=utf-8` → `application/json`). */
const mediaType = (value: unknown) =>
  (typeof value === "string" ? value : "application/octet-stream").split(";")[0]?.trim().toLowerCase() ?? "";

function withoutHeaders(headers: APIGatewayProxyResult["headers"], names: readonly string[]) {
  return Object.fromEntries(
    Object.entries(headers ?? {}).filter(([k]) => !names.includes(k.toLowerCase())),
  ) as Record<string, string | number | boolean>;
}

function contentTypeOf(headers: APIGatewayProxyResult["headers"]): unknown {
  for (const [k, v] of Object.entries(headers ?? {})) if (k.toLowerCase() === "content-type") return v;
  return undefined;
}

/** Whether an answer is one `seal` encrypts: a success with a body. */
export function sealable(result: APIGatewayProxyResult): boolean {
  return result.statusCode >= 200 && result.statusCode < 300 && (result.body ?? "") !== "";
}

/**
 * The sealer of the deployed functions.
 *
 * @example
 * const sealed = await answerSealer.seal(json(200, record, requestId), caller);
 * // content-type: application/vnd.veil.sealed+base64, x-veil-sealed-type: application/json
 */
export const answerSealer: AnswerSealer = {
  async seal(result, caller) {
    if (!sealable(result)) return result;
    const plaintext = Buffer.from(result.body, result.isBase64Encoded ? "base64" : "utf8");
    // The key passed the proof's checks: any failure now is ours (500), never an answer in clear.
    const message = await sealAnswer(plaintext, caller.sealKey, caller.proof.jti).catch(() => {
      throw new EncryptError("sealing the answer failed");
    });
    return {
      statusCode: result.statusCode,
      headers: {
        ...withoutHeaders(result.headers, [
          "content-type",
          "content-length",
          sealedAnswer.plaintextTypeHeader,
        ]),
        "content-type": sealedAnswer.contentType,
        [sealedAnswer.plaintextTypeHeader]: mediaType(contentTypeOf(result.headers)),
      },
      body: Buffer.from(message).toString("base64"),
      isBase64Encoded: false,
    };
  },
  async sealStream(caller, plaintextType) {
    return {
      stream: await sealAnswerStream(caller.sealKey, caller.proof.jti),
      headers: {
        "content-type": sealedAnswer.streamContentType,
        [sealedAnswer.plaintextTypeHeader]: mediaType(plaintextType),
      },
    };
  },
};
