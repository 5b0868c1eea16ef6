// Finds the totals a response adds to without building its label key string on every call.
// Used by prometheus/index.ts for responses (errors are rare and take the keyed path).
import { effectivePort } from './labels.js';
import type { SeriesStore, Totals } from './series.js';

/** The scheme, domain and port labels of one origin. */
export interface OriginLabels {
  /** `protocol//host`, as the href of every URL of this origin starts (no userinfo). */
  readonly prefix: string;
  readonly scheme: string;
  readonly domain: string;
  readonly port: string;
}

interface CachedOrigin extends OriginLabels {
  /** Totals by method, then path, then status. */
  readonly routes: Map<string, Map<string, Map<number, Totals>>>;
}

// More origins than this through one middleware are labelled by the keyed path, uncached.
const MAX_ORIGINS = 64;

/** The origin labels of `url`, read from its getters (each of which copies a string). */
export function originLabels(url: URL): OriginLabels {
  return {
    prefix: `${url.protocol}//${url.host}`,
    scheme: url.protocol.slice(0, -1),
    domain: url.hostname,
    port: effectivePort(url),
  };
}

/** Whether `href` is a URL of the origin `prefix`: it starts so, and the authority ends there. */
function ofOrigin(href: string, prefix: string): boolean {
  if (!href.startsWith(prefix)) return false;
  // `/`, `?`, `#` or the end: not `http://a.test` as the start of `http://a.test.evil` or `:8080`.
  if (href.length === prefix.length) return true;
  const next = href.charCodeAt(prefix.length);
  return next === 0x2f || next === 0x3f || next === 0x23;
}

/**
 * A cache in front of `store` for the response totals of (origin, method, path, status). The
 * origin is recognised by a prefix test on `url.href`, which copies nothing, where the key needs
 * `url.protocol` and `url.host` (each a new string) and one more string to join them (~300 B a
 * call). `keyed` finds or creates the totals of a label set the cache has not seen, in the store,
 * so two middleware sharing the store share them; a registry reset empties the cache.
 */
export function createResponseIndex(
  store: SeriesStore,
  keyed: (origin: OriginLabels, method: string, path: string, status: number) => Totals,
): (url: URL, method: string, path: string, status: number) => Totals {
  let origins: CachedOrigin[] = [];
  let generation = store.generation;

  function originOf(url: URL): CachedOrigin | undefined {
    const href = url.href;
    for (let i = 0; i < origins.length; i++) {
      const origin = origins[i]!;
      if (ofOrigin(href, origin.prefix)) return origin;
    }
    const labels = originLabels(url);
    // A URL with userinfo never starts with its own prefix: it is labelled uncached.
    if (origins.length >= MAX_ORIGINS || !ofOrigin(href, labels.prefix)) return undefined;
    const origin: CachedOrigin = { ...labels, routes: new Map() };
    origins.push(origin);
    return origin;
  }

  return function totalsOf(url, method, path, status) {
    if (generation !== store.generation) {
      origins = [];
      generation = store.generation;
    }
    const origin = originOf(url);
    if (origin === undefined) return keyed(originLabels(url), method, path, status);
    let byPath = origin.routes.get(method);
    if (byPath === undefined) {
      byPath = new Map();
      origin.routes.set(method, byPath);
    }
    let byStatus = byPath.get(path);
    if (byStatus === undefined) {
      byStatus = new Map();
      byPath.set(path, byStatus);
    }
    let totals = byStatus.get(status);
    if (totals === undefined) {
      totals = keyed(origin, method, path, status);
      byStatus.set(status, totals);
    }
    return totals;
  };
}
