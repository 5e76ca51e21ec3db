import type { IncomingMessage } from "node:http";
import { type SigV4FailureReason, verifySigV4 } from "../sigv4/verify.ts";
import { KmsError } from "./errors.ts";

/** One caller the local KMS knows: its SigV4 secret and the principal ARN it acts as. */
export interface KmsPrincipal {
  readonly secret: string;
  /** ARN of the IAM user, role, or `arn:aws:sts::<account>:assumed-role/<role>/<session>`. */
  readonly arn: string;
  /** When set, requests must carry this `x-amz-security-token`. */
  readonly sessionToken?: string;
  /**
   * Actions the principal's identity (IAM) policy allows, wildcards allowed. Decides account-level actions
   * (`kms:CreateKey`, `kms:ListKeys`, `kms:ListAliases`) and key-policy statements that name the account.
   * Default: none.
   */
  readonly identityActions?: readonly string[];
}

/** Principal table: access key id → principal. */
export type KmsPrincipals = Readonly<Record<string, KmsPrincipal>>;

const BAD_SIGNATURE =
  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/** The KMS error for a SigV4 failure, with the `__type` AWS answers for each kind of failure. */
export function signatureError(reason: SigV4FailureReason): KmsError {
  switch (reason) {
    case "missing-authorization":
      return new KmsError("MissingAuthenticationTokenException", "Missing Authentication Token");
    case "unknown-access-key":
      return new KmsError(
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
      );
    case "skew":
    case "expired":
      return new KmsError("InvalidSignatureException", "Signature expired or not yet current.");
    case "scope-mismatch":
      return new KmsError(
        "InvalidSignatureException",
        "Credential should be scoped to a valid region and service 'kms'.",
      );
    case "payload-hash-mismatch":
    case "unsupported-payload":
    case "bad-signature":
      return new KmsError("InvalidSignatureException", BAD_SIGNATURE);
    default:
      return new KmsError("IncompleteSignatureException", `The request signature is incomplete (${reason}).`);
  }
}

/** Verifies the request's SigV4 signature (service `kms`) and returns the principal that signed it. */
export async function authenticate(
  req: IncomingMessage,
  body: Buffer,
  options: { region: string; principals: KmsPrincipals },
): Promise<KmsPrincipal> {
  const result = await verifySigV4(
    { method: req.method ?? "POST", url: req.url ?? "/", headers: req.headersDistinct, body },
    {
      service: "kms",
      region: options.region,
      secretFor: (id) => (Object.hasOwn(options.principals, id) ? options.principals[id]?.secret : undefined),
    },
  );
  if (!result.ok) throw signatureError(result.reason);
  const principal = options.principals[result.accessKeyId];
  if (!principal) throw signatureError("unknown-access-key");
  if (principal.sessionToken !== undefined && principal.sessionToken !== result.sessionToken) {
    throw signatureError("unknown-access-key");
  }
  return principal;
}
