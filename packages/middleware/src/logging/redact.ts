// Logging-only redaction on top of core's one list of secrets: body previews (JSON, forms, header
// lines), the names to hide and error summaries. Used by logging(), whose verbose mode could
// otherwise echo secrets.
import {
  bodyLength,
  isExtapiError,
  isSecretName,
  REDACTED,
  redactText,
  redactUrl,
  utf8,
} from '@extapi/core';

const decoder = new TextDecoder();

// Media types whose bodies are worth showing as text; anything else is summarised by size.
const TEXT_TYPE = /^text\/|[/+](json|xml|javascript|x-www-form-urlencoded|graphql|x-ndjson)\b/i;
const FORM_TYPE = /x-www-form-urlencoded/i;
const JSON_TYPE = /[/+]json\b|x-ndjson/i;
// `Name: value` lines, as an echo endpoint shows the request it got in plain text.
const HEADER_LINE = /^([ \t]*)([!#$%&'*+.^_`|~0-9A-Za-z-]+)([ \t]*:[ \t]*)\S.*$/gm;

/** A body as it appears in a log line: a text preview (or a size summary) and the full size. */
export interface BodyPreview {
  body: string;
  bodyBytes: number;
  truncated?: true;
}

/**
 * The first `max` bytes of a body (`total` bytes long, `bytes` its start or all of it) as text,
 * with secret JSON members, form fields and header lines redacted (see {@link redactBodyText}).
 * Binary media types are summarised as `[N bytes of type]`.
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
 * Redacts the values of body fields whose names are secret by core's one list (`access_token`,
 * `password`, `authorization`, `cookie`, `x-api-key`…) or in `extraNames`: JSON members at any
 * depth (a string, number, array or object value, even cut off by the preview), form fields, and
 * `Name: value` lines of plain text.
 * @example
 * redactBodyText('{"headers":{"Authorization":"Bearer t"}}', 'application/json');
 * // '{"headers":{"Authorization":"[REDACTED]"}}'
 */
export function redactBodyText(
  text: string,
  type: string,
  extraNames?: ReadonlySet<string>,
): string {
  const secret = (name: string) => isSecretName(name, extraNames);
  if (FORM_TYPE.test(type)) {
    return text
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=');
        if (eq === -1) return pair;
        return secret(safeDecode(pair.slice(0, eq))) ? `${pair.slice(0, eq)}=${REDACTED}` : pair;
      })
      .join('&');
  }
  const json = redactJson(text, secret);
  if (JSON_TYPE.test(type)) return json;
  return json.replace(HEADER_LINE, (line, indent: string, name: string, colon: string) =>
    secret(name) ? `${indent}${name}${colon}${REDACTED}` : line,
  );
}

/** The index just past the JSON string that opens at `start`, or the end of a cut text. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x22) return i + 1;
  }
  return text.length;
}

/** The index just past the JSON value that starts at `start` (balanced, strings skipped). */
function valueEnd(text: string, start: number): number {
  const first = text[start];
  if (first === '"') return stringEnd(text, start);
  if (first === '{' || first === '[') {
    let depth = 0;
    for (let i = start; i < text.length; i++) {
      const c = text[i];
      if (c === '"') i = stringEnd(text, i) - 1;
      else if (c === '{' || c === '[') depth++;
      else if ((c === '}' || c === ']') && --depth === 0) return i + 1;
    }
    return text.length;
  }
  const end = text.slice(start).search(/[\s,}\]]/);
  return end === -1 ? text.length : start + end;
}

// A scan rather than JSON.parse: a preview is often cut mid-document, and the text must keep its
// exact shape apart from the redacted values. Strings are consumed whole, so a value can never be
// mistaken for a member name.
function redactJson(text: string, secret: (name: string) => boolean): string {
  let out = '';
  let copied = 0;
  let i = text.indexOf('"');
  while (i !== -1 && i < text.length) {
    const end = stringEnd(text, i);
    let colon = end;
    while (colon < text.length && /\s/.test(text[colon]!)) colon++;
    if (text[colon] !== ':') {
      i = text.indexOf('"', end);
      continue;
    }
    let value = colon + 1;
    while (value < text.length && /\s/.test(text[value]!)) value++;
    if (value < text.length && secret(memberName(text.slice(i, end)))) {
      const after = valueEnd(text, value);
      out += `${text.slice(copied, value)}"${REDACTED}"`;
      copied = after;
      i = text.indexOf('"', after);
    } else {
      // Inside an object or array value: its own members are looked at one by one.
      i = text.indexOf('"', value);
    }
  }
  return out + text.slice(copied);
}

function memberName(quoted: string): string {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return quoted.slice(1, -1);
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return text;
  }
}

/** The names to hide: `extra` plus the headers this pass marked sensitive (lowercased). */
export function headerSet(
  extra: ReadonlySet<string>,
  marked: ReadonlySet<string>,
): ReadonlySet<string> {
  if (marked.size === 0) return extra;
  const set = new Set(extra);
  for (const name of marked) set.add(name.toLowerCase());
  return set;
}

/**
 * The start of a request body to preview and its full size; streams, forms and blobs are not shown
 * (reading them would consume or copy what is being sent).
 */
export function requestBodyBytes(
  body: unknown,
  max: number,
): { bytes: Uint8Array; total: number } | undefined {
  if (typeof body === 'string') {
    // `max` UTF-16 units encode to at least `max` bytes, so a huge string is never encoded whole.
    const head = body.length > max ? body.slice(0, max) : body;
    return { bytes: utf8(head), total: bodyLength(body)! };
  }
  if (body instanceof Uint8Array) return { bytes: body, total: body.byteLength };
  if (body instanceof ArrayBuffer) return { bytes: new Uint8Array(body), total: body.byteLength };
  return undefined;
}

/** A small, safe view of an error: extapi errors already redact their URL; other messages are scrubbed. */
export function summarise(
  error: unknown,
  redactQuery: ReadonlySet<string>,
): Record<string, unknown> {
  if (isExtapiError(error)) {
    // Core already redacts the default secrets; this adds the caller's redactQuery names.
    const json = error.toJSON();
    if (typeof json.url === 'string') json.url = redactUrl(json.url, redactQuery);
    json.message = redactText(error.message, redactQuery);
    return json;
  }
  if (error instanceof Error) {
    const out: Record<string, unknown> = {
      name: error.name,
      message: redactText(error.message, redactQuery),
    };
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') out.code = code;
    return out;
  }
  return { name: typeof error, message: redactText(String(error), redactQuery) };
}
