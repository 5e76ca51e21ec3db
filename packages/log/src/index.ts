export { isSensitiveKey, REDACTED } from "./keys.ts";
export { type CreateLoggerOptions, createLogger, RedactingLogFormatter } from "./logger.ts";
export { redact, redactLimits, redactText } from "./redact.ts";
