// Logging-only redaction on top of core's redactUrl/redactHeaders: body previews and free text.
// Used by logging() in verbose mode, where bodies and error messages could otherwise carry secrets.
import { isSecretQueryName, REDACTED, redactUrl } from '@extapi/core';

const decoder = new TextDecoder();

// Media types whose bodies are worth showing as text; anything else is summarised by size.
const TEXT_TYPE = /^text\/|[/+](json|xml|javascript|x-www-form-urlencoded|graphql|x-ndjson)\b/i;

// A JSON member `"name": "value"`; the closing quote is optional because a preview may cut the value.
const JSON_MEMBER = /"((?:[^"\\]|\\.)*)"(\s*:\s*)"(?:[^"\\]|\\.)*("|$)/g;
// A URL in free text (error messages from third-party code may quote the request URL).
const URL_IN_TEXT = /\bhttps?:\/\/[^\s"'<>`]+/gi;

/** A body as it appears in a log line: a text preview (or a size summary) and the full size. */
export interface BodyPreview {
  body: string;
  bodyBytes: number;
  truncated?: true;
}

/**
 * The first `max` bytes of a body (`total` bytes long, `bytes` its start or all of it) as text, with secret-looking JSON members and form fields
 * redacted. Binary media types are summarised as `[N bytes of type]`.
 */
export function previewBody(
  bytes: Uint8Array,
  max: number,
  contentType: string | null,
  extraNames?: ReadonlySet<string>,
  total: number = bytes.byteLength,
): BodyPreview {
  const type = contentType?.split(';')[0]?.trim() ?? '';
  if (type !== '' && !TEXT_TYPE.test(type)) {
    return { body: `[${total} bytes of ${type}]`, bodyBytes: total };
  }
  const cut = total > max;
  // stream: true holds back a multi-byte character cut in half instead of printing U+FFFD.
  const raw = cut
    ? new TextDecoder().decode(bytes.subarray(0, max), { stream: true })
    : decoder.decode(bytes);
  const text = redactBodyText(raw, type, extraNames);
  return cut
    ? { body: `${text}…`, bodyBytes: total, truncated: true }
    : { body: text, bodyBytes: total };
}

/**
 * Redacts the values of JSON string members and form fields whose names look secret
 * (`access_token`, `password`, `client_secret`…), as redactUrl does for query parameters.
 */
export function redactBodyText(
  text: string,
  type: string,
  extraNames?: ReadonlySet<string>,
): string {
  if (/x-www-form-urlencoded/i.test(type)) {
    return text
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=');
        if (eq === -1) return pair;
        const name = safeDecode(pair.slice(0, eq));
        return isSecretQueryName(name, extraNames) ? `${pair.slice(0, eq)}=${REDACTED}` : pair;
      })
      .join('&');
  }
  return text.replace(JSON_MEMBER, (member, name: string, colon: string, close: string) =>
    isSecretQueryName(name, extraNames) ? `"${name}"${colon}"${REDACTED}${close}` : member,
  );
}

/** Free text (an error message) with every URL in it passed through redactUrl. */
export function redactText(text: string, extraQuery?: ReadonlySet<string>): string {
  return text.replace(URL_IN_TEXT, (url) => redactUrl(url, extraQuery));
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return text;
  }
}
