// Pure helpers for the Prometheus labels: effective port, error class name, and the path cap.
// Used by prometheus/index.ts; kept apart so they are tested on their own, without a registry.
import { errorName } from '@extapi/core';

/**
 * The port a URL connects to: its own, else 80 for `http:` and 443 for `https:`.
 * @example
 * effectivePort(new URL('https://api.example.com/')); // '443'
 */
export function effectivePort(url: URL): string {
  if (url.port !== '') return url.port;
  return url.protocol === 'https:' ? '443' : url.protocol === 'http:' ? '80' : '';
}

/**
 * The class name of a thrown value, as the old library's `type(e).__name__`: `TransportError`,
 * `TimeoutError`, `TypeError`. A DOMException or a plain `Error` gives its `name` (`AbortError`),
 * which says more than the class; a thrown non-object gives its `typeof`.
 * @example
 * errorClassName(new TypeError('x')); // 'TypeError'
 */
export function errorClassName(error: unknown): string {
  if (typeof error !== 'object' || error === null) return typeof error;
  const name = errorName(error);
  if (name !== undefined) return name;
  // Neither names it better: the generic class itself (`Error`), or `Error` for a bare object.
  const className = (error as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof className === 'string' && className !== '' ? className : 'Error';
}

/** The label that stands for every path past the cap. */
export const OTHER_PATH = 'other';

/**
 * Caps the number of distinct `path` label values: the first `max` values pass, later new ones
 * become `other`. A value seen before the cap keeps its own label for good.
 * @example
 * const cap = createPathCap(2);
 * cap('/a'); cap('/b'); cap('/c'); // '/a', '/b', 'other'
 */
export function createPathCap(max: number): (path: string) => string {
  const seen = new Set<string>();
  return function capPath(path: string): string {
    if (seen.has(path)) return path;
    if (seen.size >= max) return OTHER_PATH;
    seen.add(path);
    return path;
  };
}
