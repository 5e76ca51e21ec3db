/** An invocation of a local function failed (error, crash or timeout); maps to API Gateway's 502/504. */
export class LambdaInvokeError extends Error {
  override readonly name = "LambdaInvokeError";
}
