// How a schema mismatch reads in a ResponseValidationError message: paths and issue messages only,
// shortened, with the body's values taken out (libraries quote the value they received).
import type { StandardSchemaV1 } from './standard-schema.js';
import { REDACTED, redactText } from './redact.js';

/** How many issues a message lists; the rest are counted. */
const MAX_LISTED_ISSUES = 3;
const MAX_ISSUE_CHARS = 120;
const MAX_KEY_CHARS = 40;

/**
 * Whether `value` is a Standard Schema v1 (has `~standard.validate` and version 1).
 * @example
 * isStandardSchema(z.string()); // true
 */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  const props = (value as { '~standard'?: unknown } | null | undefined)?.['~standard'];
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    typeof props === 'object' &&
    props !== null &&
    (props as { version?: unknown }).version === 1 &&
    typeof (props as { validate?: unknown }).validate === 'function'
  );
}

function keyOf(segment: PropertyKey | StandardSchemaV1.PathSegment): PropertyKey {
  return typeof segment === 'object' && segment !== null ? segment.key : segment;
}

/**
 * An issue's path as `$.items[2].id` (`$` alone for the root); long keys are shortened.
 * @example
 * issuePath([{ key: 'items' }, 2, 'id']); // '$.items[2].id'
 */
export function issuePath(path: StandardSchemaV1.Issue['path']): string {
  let out = '$';
  for (const segment of path ?? []) {
    const key = keyOf(segment);
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'symbol') out += `[${String(key)}]`;
    else {
      const short = key.length > MAX_KEY_CHARS ? `${key.slice(0, MAX_KEY_CHARS)}…` : key;
      out += /^[A-Za-z_$][\w$]*$/.test(short) ? `.${short}` : `[${JSON.stringify(short)}]`;
    }
  }
  return out;
}

function valueAt(root: unknown, path: StandardSchemaV1.Issue['path']): unknown {
  let value = root;
  for (const segment of path ?? []) {
    if (typeof value !== 'object' || value === null) return undefined;
    const key = keyOf(segment);
    value = Object.hasOwn(value, key) ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  }
  return value;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * One issue's message with no value from the body: the value at the issue's path (a string or a
 * number, as libraries quote it) and every double-quoted literal are replaced by `[REDACTED]`,
 * secret query values of URLs too; then shortened.
 */
function safeMessage(issue: StandardSchemaV1.Issue, body: unknown): string {
  let message = typeof issue.message === 'string' ? issue.message : 'invalid';
  const value = valueAt(body, issue.path);
  if ((typeof value === 'string' && value !== '') || typeof value === 'number') {
    const text = String(value);
    // Whole tokens only: the value 3 must not eat the 3 of "expected >=30".
    message = message.replace(
      new RegExp(`(?<![\\w.])${escapeRegExp(text)}(?![\\w.])`, 'g'),
      REDACTED,
    );
  }
  message = redactText(message.replace(/"(?:[^"\\]|\\.)*"/g, REDACTED));
  return message.length > MAX_ISSUE_CHARS ? `${message.slice(0, MAX_ISSUE_CHARS)}…` : message;
}

/**
 * The issues of a schema mismatch as one line for an error message: up to three as
 * `path: message`, then how many more. No value of `body` appears
 * in it (see the docs of `ResponseValidationError`).
 * @example
 * describeIssues([{ message: 'Expected number, received string', path: ['id'] }], body);
 * // '$.id: Expected number, received string'
 */
export function describeIssues(issues: readonly StandardSchemaV1.Issue[], body: unknown): string {
  const listed = issues
    .slice(0, MAX_LISTED_ISSUES)
    .map((issue) => `${issuePath(issue.path)}: ${safeMessage(issue, body)}`);
  const more = issues.length - listed.length;
  return listed.join('; ') + (more > 0 ? `; and ${more} more issue${more === 1 ? '' : 's'}` : '');
}
