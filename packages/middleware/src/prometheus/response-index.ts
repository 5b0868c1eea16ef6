// Finds the totals a response adds to without building its label key string on every call.
// Used by prometheus/index.ts for responses (errors are rare and take the keyed path).
import { type HttpRequest, originOf, requestUrl } from '@extapi/core';
import { effectivePort } from './labels.js';
import type { SeriesStore, Totals } from './series.js';

/** The scheme, domain and port labels of one origin. */
export interface OriginLabels {
  /** `protocol//host`: the origin, without userinfo. */
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

/** The origin labels of `url`: its origin (core's `originOf`), scheme, domain and port. */
export function originLabels(url: URL): OriginLabels {
  return {
    prefix: originOf(url),
    scheme: url.protocol.slice(0, -1),
    domain: url.hostname,
    port: effectivePort(url),
  };
}

/**
 * A cache in front of `store` for the response totals of (origin, method, path, status). The
 * origin is the request's own text (core's `requestUrl()`, no URL object and the last call's same
 * string), where a key of labels needs `url.protocol` and `url.host` (each a new string) and one
 * more string to join them (~300 B a call). `keyed` finds or creates the totals of a label set
 * the cache has not seen, in the store, so two middleware sharing the store share them; a
 * registry reset empties the cache.
 */
export function createResponseIndex(
  store: SeriesStore,
  keyed: (origin: OriginLabels, method: string, path: string, status: number) => Totals,
): (request: HttpRequest, path: string, status: number) => Totals {
  let origins = new Map<string, CachedOrigin>();
  let generation = store.generation;

  function cachedOrigin(request: HttpRequest): CachedOrigin | undefined {
    // The request's text: a URL object is made only for an origin not seen before.
    const key = requestUrl(request).origin;
    let origin = origins.get(key);
    if (origin === undefined) {
      if (origins.size >= MAX_ORIGINS) return undefined;
      origin = { ...originLabels(request.url), routes: new Map() };
      origins.set(key, origin);
    }
    return origin;
  }

  return function totalsOf(request, path, status) {
    const { method } = request;
    if (generation !== store.generation) {
      origins = new Map();
      generation = store.generation;
    }
    const origin = cachedOrigin(request);
    if (origin === undefined) return keyed(originLabels(request.url), method, path, status);
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
