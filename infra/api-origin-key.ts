/**
 * Which API key CloudFront sends to API Gateway as the origin's `x-api-key` header: the newest key the
 * rotation (rotation.ts) made for this stage, read at every deploy so an update never writes back a
 * stale or foreign key.
 */
/**
 * The value the API origin header gets on the first deploy, before any key exists. The API rejects it;
 * the key rotation, run once at deploy time and then on schedule, replaces it with a real key.
 */
export const apiKeyPlaceholder = "replaced-by-rotation";

/** An API key as API Gateway lists it (`getApiKeys` with values). */
export interface ListedApiKey {
  readonly name: string;
  readonly value: string;
  readonly enabled: boolean;
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * The value the distribution must send: the newest enabled key the rotation made for this stage (names
 * are `<prefix><creation time>`), or the placeholder when there is none yet. Only a key carrying this
 * stage's tag counts: a name is no proof, anyone who may create API keys can choose one, and an
 * untagged or foreign key written into the origin header would be a key its maker knows. The listing
 * does not say which usage plan a key is in, so the tag is the whole test; the developer permission
 * boundary (governance.ts) keeps developers from setting it. The rotation keeps the key it
 * replaces valid until its next run, so a value read just before a rotation is still accepted when the
 * distribution update lands.
 */
export function liveApiKeyValue(
  keys: readonly ListedApiKey[],
  p: { keyNamePrefix: string; stageTag: string; stageName: string },
): string {
  const ours = keys.filter(
    (k) => k.enabled && k.name.startsWith(p.keyNamePrefix) && k.tags?.[p.stageTag] === p.stageName,
  );
  const newest = ours.sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0))[0];
  return newest?.value ?? apiKeyPlaceholder;
}
