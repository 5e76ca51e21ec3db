/**
 * Percent-encoding as SigV4 defines it: every byte of the UTF-8 form except the unreserved characters
 * `A-Z a-z 0-9 - . _ ~` becomes `%XY` with upper-case hex. `encodeURIComponent` leaves `! ' ( ) *` alone,
 * which SigV4 encodes, hence the second pass.
 */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * Decodes `%XY` escapes as UTF-8. Returns `undefined` for a broken escape or invalid UTF-8, so callers can
 * reject the request instead of guessing. With `plusAsSpace`, `+` means a space (form encoding), which is
 * how API Gateway reads query strings.
 */
export function percentDecode(value: string, plusAsSpace = false): string | undefined {
  const text = plusAsSpace ? value.replace(/\+/g, " ") : value;
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
