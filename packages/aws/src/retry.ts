/**
 * The retry policy of the clients, the AWS SDK's "standard" mode: which failures are retried (throttling,
 * 5xx, timeouts, lost connections), how long to wait (exponential backoff with jitter), and the retry
 * quota that stops a client from retrying into an outage. Same figures as the SDK's defaults.
 */

/** Error codes that mean "slow down". */
export const throttlingErrorCodes = new Set([
  "BandwidthLimitExceeded",
  "EC2ThrottledException",
  "LimitExceededException",
  "PriorRequestNotComplete",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "ThrottledException",
  "Throttling",
  "ThrottlingException",
  "TooManyRequestsException",
  "TransactionInProgressException",
]);
/** Error codes of a service-side timeout. */
export const transientErrorCodes = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException"]);
/** HTTP statuses worth another attempt. Other 5xx (501, 505 …) are not. */
export const transientStatusCodes = new Set([500, 502, 503, 504]);

/** How one failed attempt is classified. */
export type FailureKind = "throttling" | "transient" | "client" | "server";

/** Classifies a service error (code + HTTP status) or a failure without answer (`network`). */
export function classify(failure: { code: string; statusCode: number } | "network"): FailureKind {
  if (failure === "network") return "transient";
  if (failure.statusCode === 429 || throttlingErrorCodes.has(failure.code)) return "throttling";
  if (transientErrorCodes.has(failure.code) || transientStatusCodes.has(failure.statusCode))
    return "transient";
  return failure.statusCode >= 500 ? "server" : "client";
}

/** Options of the standard retry mode. */
export interface RetryOptions {
  /** Attempts per call, the first included. Default 3. */
  readonly maxAttempts?: number;
  /** Backoff base after a transient failure, in ms. Default 50. */
  readonly baseDelayMs?: number;
  /** Backoff base after throttling, in ms. Default 1000. */
  readonly throttlingBaseDelayMs?: number;
  /** Largest backoff, in ms. Default 20000. */
  readonly maxDelayMs?: number;
  /** Random source in [0, 1), for tests. Default `Math.random`. */
  readonly random?: () => number;
}

const initialQuota = 500;
const retryCost = 14;
const throttlingRetryCost = 5;

/**
 * Retry decisions of one client: exponential backoff with full jitter (`random × min(base × 2^n, max)`)
 * and a shared quota — each retry spends tokens (5 after throttling, 14 otherwise), each success gives
 * back what its retries spent (or 1), and with the quota empty failures are returned at once.
 */
export class RetryStrategy {
  readonly maxAttempts: number;
  readonly #base: number;
  readonly #throttlingBase: number;
  readonly #max: number;
  readonly #random: () => number;
  #quota = initialQuota;

  constructor(options: RetryOptions = {}) {
    this.maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? 3));
    this.#base = options.baseDelayMs ?? 50;
    this.#throttlingBase = options.throttlingBaseDelayMs ?? 1000;
    this.#max = options.maxDelayMs ?? 20_000;
    this.#random = options.random ?? Math.random;
  }

  /** Tokens left in the retry quota. */
  get quota(): number {
    return this.#quota;
  }

  /**
   * After failed attempt `attempt` (1-based): the delay before the next attempt and the tokens it
   * costs, or undefined when the failure is final.
   */
  retryAfter(attempt: number, kind: FailureKind): { delayMs: number; cost: number } | undefined {
    if (kind !== "throttling" && kind !== "transient") return undefined;
    if (attempt >= this.maxAttempts) return undefined;
    const cost = kind === "throttling" ? throttlingRetryCost : retryCost;
    if (this.#quota < cost) return undefined;
    this.#quota -= cost;
    const base = kind === "throttling" ? this.#throttlingBase : this.#base;
    const delayMs = Math.floor(this.#random() * Math.min(base * 2 ** (attempt - 1), this.#max));
    return { delayMs, cost };
  }

  /** A call succeeded after retries that cost `spent` tokens (0 when it needed none). */
  recordSuccess(spent: number): void {
    this.#quota = Math.min(initialQuota, this.#quota + (spent > 0 ? spent : 1));
  }
}
