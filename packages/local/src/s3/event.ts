import { randomBytes } from "node:crypto";
import type { S3EventRecord } from "aws-lambda";

/** What S3 knows about a new object when it notifies. */
export interface CreatedObject {
  readonly bucket: string;
  /** The key as stored (not encoded). */
  readonly key: string;
  readonly size: number;
  readonly eTag?: string;
  readonly versionId?: string;
  /** `Put`, `Post`, `Copy` or `CompleteMultipartUpload`. */
  readonly how: "Put" | "Post" | "Copy" | "CompleteMultipartUpload";
  readonly sourceIp: string;
}

/** S3 encodes event keys like a form value: percent-encoding, `+` for a space, `/` kept. */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, "/").replace(/%20/g, "+");
}

let sequence = 0n;

/**
 * One S3 event notification record (event version 2.1), as S3 sends to Lambda for `s3:ObjectCreated:*`
 * — the shape the ingest function parses in AWS.
 */
export function objectCreatedRecord(
  object: CreatedObject,
  options: { region: string; configurationId: string; now?: Date },
): S3EventRecord {
  sequence += 1n;
  return {
    eventVersion: "2.1",
    eventSource: "aws:s3",
    awsRegion: options.region,
    eventTime: (options.now ?? new Date()).toISOString(),
    eventName: `ObjectCreated:${object.how}`,
    userIdentity: { principalId: "AWS:LOCAL" },
    requestParameters: { sourceIPAddress: object.sourceIp },
    responseElements: {
      "x-amz-request-id": randomBytes(8).toString("hex").toUpperCase(),
      "x-amz-id-2": randomBytes(24).toString("base64"),
    },
    s3: {
      s3SchemaVersion: "1.0",
      configurationId: options.configurationId,
      bucket: {
        name: object.bucket,
        ownerIdentity: { principalId: "LOCAL" },
        arn: `arn:aws:s3:::${object.bucket}`,
      },
      object: {
        key: encodeEventKey(object.key),
        size: object.size,
        eTag: (object.eTag ?? "").replace(/"/g, ""),
        ...(object.versionId ? { versionId: object.versionId } : {}),
        sequencer: (BigInt(Date.now()) * 1000n + sequence).toString(16).toUpperCase().padStart(16, "0"),
      },
    },
  } as S3EventRecord;
}
