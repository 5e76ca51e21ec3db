/**
 * Every goal of the benchmarks, in one place. Modules report figures only; the runner and the report
 * (docs/performance.md) judge them against this table. A goal names a figure measured in one run:
 * counts, sizes and ratios, never an absolute time.
 */

/** What a figure should be: at most `max`, at least `min` (both: a range; equal: exactly). */
export interface Goal {
  readonly max?: number;
  readonly min?: number;
}

/** The goals, in the order the report lists them. */
export const goals: Readonly<Record<string, Goal>> = {
  kms_calls_per_1000_writes: { max: 1 },
  kms_calls_cold_burst_50: { min: 1, max: 1 },
  crypto_create_vs_peer: { max: 1 },
  handler_init_vs_peer: { max: 0.7 },
  handler_bundle_kb: { max: 400 },
  edge_bundle_kb: { max: 30 },
  edge_sign_1mb_vs_sha256_plus_base64: { min: 0.9 },
  image_ingest_peak_rss_mb: { max: 64 },
  list_page_names_vs_metadata: { max: 3 },
  local_errors: { min: 0, max: 0 },
};

/**
 * Why a goal is missed where vetted code cannot meet it: the report prints the reason under the table
 * whenever that goal is missed, so a miss is never left unexplained.
 */
export const knownMisses: Readonly<Record<string, string>> = {
  handler_bundle_kb:
    "The records handler carries the AWS Encryption SDK as published: its decrypt path imports the " +
    "signature code (bn.js, asn1.js) even for unsigned messages, and asn1.js pins an older bn.js, so two " +
    "copies ship (about 90 KB of the bundle), plus the SDK's stream pipeline (readable-stream, about 40 KB); " +
    "proof verification (jose) and sealing answers (the raw RSA keyring) add about 36 KB. " +
    "Replacing or patching those modules at bundle time is what Veil does not do (docs/adr/0001). The " +
    "cold start, which the size stands for, meets its goal against the peer (`handler_init_vs_peer`).",
  list_page_names_vs_metadata:
    "A page with names decrypts 50 Encryption SDK messages in the function, one per record (docs/adr/0007): " +
    "the stock buffered decrypt runs its stream pipeline for every message, most of its CPU time. The " +
    "ratio rises with other load on the machine; on a busy 2-core machine it ranged 2.7 to 4.1 (docs/adr/0009).",
};

/** Figures without a goal that the report lists next to the goals (peer figures, context). */
export const headlineFigures: readonly string[] = [
  "peer_kms_calls_per_1000_writes",
  "peer_kms_calls_cold_burst_50",
  "handler_crypto_per_create_us",
  "peer_crypto_per_create_us",
  "handler_ready_ms",
  "peer_handler_ready_ms",
  "peer_bundle_kb",
  "create_vs_rsa_floor",
  "image_ingest_mib_s",
  "image_stream_mib_s",
  "image_ingest_vs_aes",
  "search_1000_ms",
  "local_rps",
  "local_p99_ms",
  "seal_vs_aes_gcm",
  "jwe_4k_us",
  "proof_verify_us",
  "export_100_records_10_images_ms",
];

/** `≤ 1`, `≥ 0.9`, `= 1`, `1..2`. */
export function goalText(goal: Goal | undefined): string {
  if (!goal) return "";
  if (goal.min !== undefined && goal.max !== undefined) {
    return goal.min === goal.max ? `= ${goal.min}` : `${goal.min}..${goal.max}`;
  }
  return goal.max !== undefined ? `≤ ${goal.max}` : `≥ ${goal.min}`;
}

/** True when `value` meets `goal`; `undefined` without a goal. */
export function meetsGoal(value: number, goal: Goal | undefined): boolean | undefined {
  if (!goal) return undefined;
  return (goal.max === undefined || value <= goal.max) && (goal.min === undefined || value >= goal.min);
}
