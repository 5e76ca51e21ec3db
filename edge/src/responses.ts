import type { CloudFrontResultResponse } from "aws-lambda";

const statusText: Record<number, string> = {
  400: "Bad Request",
  413: "Payload Too Large",
  502: "Bad Gateway",
};

/**
 * A response generated at the edge instead of forwarding. The body says only the status: the reason a
 * request was not signed is nothing a client should learn.
 */
export function generatedResponse(status: 400 | 413 | 502): CloudFrontResultResponse {
  const text = statusText[status]!;
  return {
    status: String(status),
    statusDescription: text,
    headers: {
      "content-type": [{ key: "Content-Type", value: "application/json" }],
      "cache-control": [{ key: "Cache-Control", value: "no-store" }],
    },
    body: JSON.stringify({ message: text }),
  };
}
