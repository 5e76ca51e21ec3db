import { ApiError, NetworkError, SessionExpiredError } from "../api/errors.ts";

interface ErrorNoticeProps {
  readonly error: unknown;
  /** Shown as a button when the action can be retried. */
  readonly onRetry?: () => void;
  readonly title?: string;
}

/** What went wrong, in words; with the request id for errors only support can explain. */
export function ErrorNotice({ error, onRetry, title }: ErrorNoticeProps) {
  const { heading, message, reference } = describe(error);
  return (
    <div className="notice notice-error" role="alert">
      <p className="notice-title">{title ?? heading}</p>
      <p>{message}</p>
      {reference ? (
        <p className="notice-reference">
          Reference for support: <code>{reference}</code>
        </p>
      ) : null}
      {onRetry ? (
        <button type="button" className="button button-secondary" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** The parts of an error a user can act on; unknown errors give nothing away. */
export function describe(error: unknown): { heading: string; message: string; reference?: string } {
  if (error instanceof ApiError) {
    const unexpected =
      error.isServerError || ![400, 403, 404, 409, 412, 413, 428, 429].includes(error.status);
    return {
      heading: error.status === 404 ? "Not found" : unexpected ? "Something went wrong" : "Not saved",
      message: error.message,
      ...(unexpected && error.requestId ? { reference: error.requestId } : {}),
    };
  }
  if (error instanceof NetworkError || error instanceof SessionExpiredError) {
    return { heading: "Connection problem", message: error.message };
  }
  return { heading: "Something went wrong", message: "An unexpected error occurred. Please try again." };
}
