/** A base64 `data:` URL split into its parts (RFC 2397). */
export interface DataUrl {
  mimeType: string;
  /** The `;key=value` parameters between the media type and `;base64`, e.g. `charset=utf-8`. */
  parameters: string[];
  data: string;
}

/** Undefined unless `url` is a base64 data URL that names its media type. */
export function parseBase64DataUrl(url: string): DataUrl | undefined {
  const match = /^data:([^;,]+)((?:;[^;,]*)*);base64,(.*)$/s.exec(url);
  if (!match) return undefined;
  const parameters = match[2] ? match[2].slice(1).split(';') : [];
  return { mimeType: match[1]!, parameters, data: match[3]! };
}
