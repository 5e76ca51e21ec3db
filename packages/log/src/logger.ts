import { LogFormatter, Logger, LogItem } from "@aws-lambda-powertools/logger";
import type { LogAttributes, LogLevel, UnformattedAttributes } from "@aws-lambda-powertools/logger/types";
import { REDACTED } from "./keys.ts";
import { redact, redactText } from "./redact.ts";

/**
 * Powertools' standard JSON layout with every attribute redacted before it is merged and serialized.
 * Redacting here (rather than in a JSON replacer) covers every path to the console: direct logs,
 * buffered logs, child loggers (which inherit the formatter) and the Logger's own warnings.
 */
export class RedactingLogFormatter extends LogFormatter {
  override formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    let message: string;
    let extra: LogAttributes;
    try {
      message = redactText(String(attributes.message ?? ""));
      extra = redact(additional) as LogAttributes;
    } catch {
      message = REDACTED;
      extra = {};
    }
    const ctx = attributes.lambdaContext;
    const base: LogAttributes = {
      level: attributes.logLevel,
      message,
      timestamp: this.formatTimestamp(attributes.timestamp),
      service: attributes.serviceName,
      cold_start: ctx?.coldStart,
      function_arn: ctx?.invokedFunctionArn,
      function_memory_size: ctx?.memoryLimitInMB,
      function_name: ctx?.functionName,
      function_request_id: ctx?.awsRequestId,
      sampling_rate: attributes.sampleRateValue,
      xray_trace_id: attributes.xRayTraceId,
    };
    return new LogItem({ attributes: base }).addAttributes(extra);
  }
}

/** Options of `createLogger`. */
export interface CreateLoggerOptions {
  /** The `service` attribute of every line. */
  serviceName: string;
  /** Threshold; defaults to `POWERTOOLS_LOG_LEVEL` / `AWS_LAMBDA_LOG_LEVEL`, else INFO. */
  level?: LogLevel;
  /** Keys added to every line (redacted like everything else). */
  persistentKeys?: LogAttributes;
}

/**
 * Creates a Powertools `Logger` whose every line is redacted (see `redact`): handlers keep the full
 * Powertools API (`appendKeys`, `addContext`, `injectLambdaContext`, child loggers).
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  return new Logger({
    serviceName: options.serviceName,
    ...(options.level ? { logLevel: options.level } : {}),
    ...(options.persistentKeys ? { persistentKeys: options.persistentKeys } : {}),
    logFormatter: new RedactingLogFormatter(),
  });
}
