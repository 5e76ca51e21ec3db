/**
 * Every object version and delete marker of the local stack's buckets, for tests that check what an
 * erasure left behind (on a server that keeps versions, such as the test Swift). Tests only.
 */
import { ListObjectVersionsCommand, S3Client } from "@aws-sdk/client-s3";

/** One entry of a bucket's version listing. */
export interface ListedVersion {
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string;
  readonly latest: boolean;
  readonly deleteMarker: boolean;
}

/** What `listAllVersions` needs of a stack's S3 (`LocalStack.images.s3.info`). */
export interface S3Location {
  readonly endpoint: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly buckets: { readonly inbox: string; readonly images: string };
}

/**
 * Lists every version and delete marker of both buckets, all pages.
 *
 * @example
 * const left = (await listAllVersions(stack.images.s3.info, region)).filter((v) => v.key.includes(sub));
 */
export async function listAllVersions(s3: S3Location, region: string): Promise<ListedVersion[]> {
  const client = new S3Client({
    region,
    endpoint: s3.endpoint,
    credentials: s3.credentials,
    forcePathStyle: true,
  });
  const out: ListedVersion[] = [];
  try {
    for (const bucket of [s3.buckets.images, s3.buckets.inbox]) {
      let keyMarker: string | undefined;
      let versionIdMarker: string | undefined;
      do {
        const page = await client.send(
          new ListObjectVersionsCommand({
            Bucket: bucket,
            ...(keyMarker ? { KeyMarker: keyMarker } : {}),
            ...(versionIdMarker ? { VersionIdMarker: versionIdMarker } : {}),
          }),
        );
        for (const v of page.Versions ?? [])
          out.push({
            bucket,
            key: v.Key ?? "",
            versionId: v.VersionId ?? "null",
            latest: v.IsLatest === true,
            deleteMarker: false,
          });
        for (const m of page.DeleteMarkers ?? [])
          out.push({
            bucket,
            key: m.Key ?? "",
            versionId: m.VersionId ?? "null",
            latest: m.IsLatest === true,
            deleteMarker: true,
          });
        keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
        versionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
      } while (keyMarker);
    }
  } finally {
    client.destroy();
  }
  return out;
}
