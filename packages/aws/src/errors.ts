/**
 * Typed errors of the AWS clients. A message names the service, the operation, the AWS error code, the
 * HTTP status and the request id — never a request or response body, a header value, a key, plaintext
 * or a credential, because these errors end up in logs. The service's own error message is dropped on
 * purpose: validation messages can quote the input they refused.
 */

/** Base class of every error this package throws. */
export abstract class AwsError extends Error {}

/** The options cannot work (no region, a malformed endpoint, an RDS target that is not a host). */
export class AwsConfigError extends AwsError {
  override readonly name = "AwsConfigError";
}

/**
 * No usable credentials: none configured, the provider failed, or they expire within the minimum
 * validity the call needs. Thrown before any request is signed — a request is never sent unsigned or
 * signed with stale keys.
 */
export class AwsCredentialsError extends AwsError {
  override readonly name = "AwsCredentialsError";
}

/** Where an error happened, for messages and logs. */
export interface AwsCallSite {
  /** The service's signing name, e.g. `kms`. */
  readonly service: string;
  /** The operation, e.g. `Decrypt`. */
  readonly operation: string;
}

/**
 * The service answered with an error. `name` is the AWS error code exactly as the AWS SDK names it
 * (`InvalidCiphertextException`, `ThrottlingException`, …), so code written against SDK errors keeps
 * working.
 */
export class AwsServiceError extends AwsError {
  /** The AWS error code. */
  override readonly name: string;
  readonly service: string;
  readonly operation: string;
  readonly statusCode: number;
  /** `x-amzn-RequestId` of the answer, when it had one. */
  readonly requestId: string | undefined;
  /** Attempts made, retries included. */
  readonly attempts: number;

  constructor(
    site: AwsCallSite,
    code: string,
    statusCode: number,
    requestId: string | undefined,
    attempts: number,
  ) {
    super(
      `${site.service} ${site.operation} failed: ${code} (HTTP ${statusCode}${requestId ? `, request id ${requestId}` : ""})`,
    );
    this.name = code;
    this.service = site.service;
    this.operation = site.operation;
    this.statusCode = statusCode;
    this.requestId = requestId;
    this.attempts = attempts;
  }
}

/**
 * No answer: the attempt timed out (`name` `TimeoutError`, like the SDK's) or the connection failed
 * (`name` `NetworkError`, `code` the system error code such as `ECONNREFUSED`).
 */
export class AwsNetworkError extends AwsError {
  override readonly name: "TimeoutError" | "NetworkError";
  readonly code: string;
  readonly service: string;
  readonly operation: string;
  readonly attempts: number;

  constructor(site: AwsCallSite, kind: "TimeoutError" | "NetworkError", code: string, attempts: number) {
    super(`${site.service} ${site.operation} failed: ${kind === "TimeoutError" ? "timed out" : code}`);
    this.name = kind;
    this.code = code;
    this.service = site.service;
    this.operation = site.operation;
    this.attempts = attempts;
  }
}
