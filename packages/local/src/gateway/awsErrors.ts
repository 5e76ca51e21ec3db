/**
 * The error responses API Gateway (REST) sends, with its wording, status and `x-amzn-ErrorType`.
 * AWS appends the expected canonical request to signature errors; that is left out here.
 */
import type { SigV4FailureReason } from "../sigv4/index.ts";

/** One gateway-generated error. */
export interface GatewayError {
  readonly status: number;
  readonly type: string;
  readonly body: Record<string, string>;
}

const signatureMismatch =
  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

export const gatewayErrors = {
  missingToken: {
    status: 403,
    type: "MissingAuthenticationTokenException",
    body: { message: "Missing Authentication Token" },
  },
  forbidden: { status: 403, type: "ForbiddenException", body: { message: "Forbidden" } },
  throttled: { status: 429, type: "TooManyRequestsException", body: { message: "Too Many Requests" } },
  badSignature: { status: 403, type: "InvalidSignatureException", body: { message: signatureMismatch } },
  unknownKey: {
    status: 403,
    type: "UnrecognizedClientException",
    body: { message: "The security token included in the request is invalid." },
  },
  malformed: {
    status: 403,
    type: "IncompleteSignatureException",
    body: { message: "Authorization header is malformed or incomplete." },
  },
  scope: {
    status: 403,
    type: "InvalidSignatureException",
    body: { message: "Credential should be scoped to a valid region and to correct service: 'execute-api'." },
  },
  internal: { status: 502, type: "InternalServerErrorException", body: { message: "Internal server error" } },
  timeout: { status: 504, type: "IntegrationTimeout", body: { message: "Endpoint request timed out" } },
  tooLarge: { status: 413, type: "RequestTooLarge", body: { message: "Request Too Long" } },
} satisfies Record<string, GatewayError>;

/** `YYYYMMDDTHHMMSSZ` of a time in ms. */
export function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, "");
}

/** The error for a SigV4 failure, worded like API Gateway. */
export function sigv4Error(
  reason: SigV4FailureReason,
  requestTime: number | undefined,
  now: number,
): GatewayError {
  switch (reason) {
    case "missing-authorization":
      return gatewayErrors.missingToken;
    case "skew":
    case "expired":
      return skewError(requestTime, now);
    case "unknown-access-key":
      return gatewayErrors.unknownKey;
    case "scope-mismatch":
      return gatewayErrors.scope;
    case "bad-signature":
    case "payload-hash-mismatch":
    case "unsupported-payload":
      return gatewayErrors.badSignature;
    default:
      return gatewayErrors.malformed;
  }
}

function skewError(requestTime: number | undefined, now: number): GatewayError {
  const five = 5 * 60_000;
  if (requestTime !== undefined && requestTime > now) {
    return {
      status: 403,
      type: "InvalidSignatureException",
      body: {
        message: `Signature not yet current: ${amzDate(requestTime)} is still later than ${amzDate(now + five)} (${amzDate(now)} + 5 min.)`,
      },
    };
  }
  return {
    status: 403,
    type: "InvalidSignatureException",
    body: {
      message: `Signature expired: ${requestTime === undefined ? "unknown" : amzDate(requestTime)} is now earlier than ${amzDate(now - five)} (${amzDate(now)} - 5 min.)`,
    },
  };
}

/** API Gateway's IAM denial. Note the capital `Message`, as AWS sends it for this one. */
export function notAuthorized(userArn: string, resourceArn: string): GatewayError {
  return {
    status: 403,
    type: "AccessDeniedException",
    body: {
      Message: `User: ${userArn} is not authorized to perform: execute-api:Invoke on resource: ${resourceArn}`,
    },
  };
}
