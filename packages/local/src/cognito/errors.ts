/** A Cognito API call answered with an error; `type` is Cognito's `__type` (e.g. `NotAuthorizedException`). */
export class CognitoCallError extends Error {
  override readonly name = "CognitoCallError";
  constructor(
    readonly operation: string,
    readonly type: string,
    readonly status: number,
  ) {
    // Cognito's own message may quote a username; the type and operation are enough to act on.
    super(`${operation} failed: ${type} (HTTP ${status})`);
  }
}
