// client.paginate() and client.pages(): an async iterable over the pages of a list, each page one
// call through the whole stack (middleware see every page), following `Link: rel="next"` or `next()`.
import { isReplayableBody } from './body.js';
import { ConfigError, HttpStatusError, PaginationError } from './errors.js';
import { findLink } from './link-header.js';
import { type OptionSpec, option, readOptions, unknownOption } from './options.js';
import { sameOrigin } from './redirect.js';
import {
  type CallOptions,
  REQUEST_KEY_LIST,
  type RequestOptions,
  readRequestOptions,
} from './request.js';
import type { HttpResponse, RequestBody } from './types.js';
import { appendQuery, type Query } from './url.js';

/** What a page was sent with, as `next()` sees it. */
export interface PageRequest {
  /** The page's URL, query included. */
  readonly url: URL;
  /** The query this page was built with (the call's, or the call's merged with `next()`'s). */
  readonly query: Query | undefined;
  /** The page's `json` option (the call's, or `next()`'s). */
  readonly json: unknown;
  /** The page's `body` option (the call's, or `next()`'s). */
  readonly body: RequestBody | undefined;
}

/** What `next()` receives about the page just fetched. */
export interface PageInfo<Item> {
  /** The page's response; its body is read (unless `readBody: false`), so `json()` works again. */
  readonly response: HttpResponse;
  /** The items `items()` found on this page. */
  readonly items: readonly Item[];
  /** This page's 1-based number. */
  readonly page: number;
  /** How many items every page so far gave, this one included (the next offset). */
  readonly itemCount: number;
  /** What this page was sent with. */
  readonly request: PageRequest;
}

/**
 * The next page as `next()` returns it. A string or `URL` (absolute, or relative to the page's
 * URL) is fetched as it is: the call's `query` is added only when it has no query of its own. An
 * object changes the first page's request: `query` is merged over the call's `query` (a key given
 * here replaces it; `undefined` removes it), `json` or `body` replace the call's, `url` replaces
 * the first page's URL. `undefined`, `null` or `false`: there is no next page.
 */
export type NextPage =
  | string
  | URL
  | { url?: string | URL; query?: Query; json?: unknown; body?: RequestBody }
  | undefined
  | null
  | false;

/** The pagination options of `client.paginate()` and `client.pages()`. Every field is optional. */
export interface PaginationOptions<Item> {
  /**
   * The items of a page. May be async.
   * @default the JSON body when it is an array (a `PaginationError` otherwise)
   */
  items?: (response: HttpResponse, page: number) => readonly Item[] | Promise<readonly Item[]>;
  /**
   * The next page (see {@link NextPage}), for cursor and offset APIs. May be async.
   * @default the target of `Link: <…>; rel="next"`, resolved against the page's URL
   */
  next?: (info: PageInfo<Item>) => NextPage | Promise<NextPage>;
  /** No page after this many. @default Infinity */
  maxPages?: number;
  /** No item after this many (the last page's items are cut), and no page after the one that reached it. @default Infinity */
  maxItems?: number;
  /**
   * Follow a next page on another origin than the first page's. Credentials (the client's
   * `sensitiveHeaders`, `Authorization`, `Cookie`…, also those middleware set) are not sent there.
   * @default false (a `PaginationError` with code `ERR_PAGINATION_ORIGIN`)
   */
  allowOtherOrigins?: boolean;
}

/** Options of `client.paginate()` and `client.pages()`: the request options, sent with every page, and the pagination ones. */
export interface PaginateOptions<Item> extends RequestOptions, PaginationOptions<Item> {}

/** One page, as `client.pages()` yields it. */
export interface Page<Item> {
  /** The page's 1-based number. */
  readonly page: number;
  /** The page's items (cut to `maxItems`). */
  readonly items: Item[];
  /** The page's response (headers such as `X-Total-Count`); released when the next page is asked for. */
  readonly response: HttpResponse;
}

/** How a page is sent: the client's own request path, so every page goes through the stack. */
export interface PageSender {
  /** The URL of a call, as the client makes it (joined onto `baseUrl`, checked). */
  resolve(url: string | URL): URL;
  /** Sends one page; the call's credentials belong to `origin`. */
  send(url: URL, options: CallOptions, origin: string): Promise<HttpResponse>;
}

/** The defaults of {@link PaginationOptions}. */
export const DEFAULT_PAGINATION_OPTIONS = {
  /** @see PaginationOptions.maxPages */
  maxPages: Number.POSITIVE_INFINITY,
  /** @see PaginationOptions.maxItems */
  maxItems: Number.POSITIVE_INFINITY,
  /** @see PaginationOptions.allowOtherOrigins */
  allowOtherOrigins: false,
};

const SPEC = {
  items: option.fn<NonNullable<PaginationOptions<unknown>['items']>>(),
  next: option.fn<NonNullable<PaginationOptions<unknown>['next']>>(),
  maxPages: option.integer({
    min: 1,
    infinity: true,
    default: DEFAULT_PAGINATION_OPTIONS.maxPages,
  }),
  maxItems: option.integer({
    min: 1,
    infinity: true,
    default: DEFAULT_PAGINATION_OPTIONS.maxItems,
  }),
  allowOtherOrigins: option.boolean(DEFAULT_PAGINATION_OPTIONS.allowOtherOrigins),
} satisfies OptionSpec<PaginationOptions<unknown>>;
const KNOWN = [...Object.keys(SPEC), ...REQUEST_KEY_LIST];

type Resolved = ReturnType<typeof resolvePagination>;

/** Splits and checks the options at call time: unknown names and bad values are `ConfigError`s. */
function resolvePagination(sender: PageSender, url: string | URL, input: unknown) {
  const own: Record<string, unknown> = {};
  const request: Record<string, unknown> = {};
  if (input !== undefined) {
    if (typeof input !== 'object' || input === null || Array.isArray(input))
      throw new ConfigError('options', input, 'expected an object');
    for (const key of Object.keys(input)) {
      const value = (input as Record<string, unknown>)[key];
      if (Object.hasOwn(SPEC, key)) own[key] = value;
      else if (REQUEST_KEY_LIST.includes(key)) request[key] = value;
      else throw unknownOption('paginate()', key, KNOWN);
    }
  }
  const options = readOptions('paginate()', own, SPEC);
  const call = readRequestOptions(request);
  if (!isReplayableBody(call.body as RequestBody | undefined)) {
    throw new ConfigError('body', call.body, 'a stream is sent once; every page sends the body');
  }
  const query = call.query as Query | undefined;
  call.query = undefined; // applied here, by the rule of NextPage
  const start = sender.resolve(url);
  const first = new URL(start.href);
  if (query !== undefined) appendQuery(first, query);
  return { ...options, call, query, start, first, origin: start.origin };
}

/** The items of a page by the default rule: the JSON body when it is an array. */
async function jsonItems(response: HttpResponse, page: number): Promise<readonly unknown[]> {
  const body = await response.json();
  if (Array.isArray(body)) return body;
  const field =
    typeof body === 'object' && body !== null
      ? Object.keys(body).find(
          (key) =>
            Array.isArray((body as Record<string, unknown>)[key]) &&
            /^[A-Za-z_$][\w$]{0,63}$/.test(key),
        )
      : undefined;
  const example = field ? `async (res) => (await res.json()).${field}` : '(res) => …';
  throw new PaginationError(
    `Page ${page}'s JSON body is ${body === null ? 'null' : Array.isArray(body) ? 'an array' : typeof body}, not an array: pass items: ${example} to pick its items`,
    'ERR_PAGINATION_ITEMS',
    page,
    { method: response.method, url: response.url },
  );
}

/** A query with `patch`'s keys replaced (an `undefined` value removes one). */
function mergeQuery(base: Query | undefined, patch: Query): URLSearchParams {
  const out = new URL('http://x/');
  if (base !== undefined) appendQuery(out, base);
  const names = patch instanceof URLSearchParams ? [...patch.keys()] : Object.keys(patch);
  for (const name of names) out.searchParams.delete(name);
  appendQuery(out, patch);
  return out.searchParams;
}

/** The page after `info`, checked against the first page's origin; `undefined` at the end. */
function nextRequest(
  r: Resolved,
  info: PageInfo<unknown>,
  next: NextPage,
): PageRequest | undefined {
  if (next === undefined || next === null || next === false) return undefined;
  const { response, page } = info;
  const base = response.url || info.request.url;
  let request: PageRequest;
  if (typeof next === 'string' || next instanceof URL) {
    const url = new URL(next, base);
    if (r.query !== undefined && url.search === '') appendQuery(url, r.query);
    request = { ...info.request, url };
  } else if (typeof next === 'object') {
    const url = next.url === undefined ? new URL(r.start.href) : new URL(next.url, base);
    const query = next.query === undefined ? r.query : mergeQuery(r.query, next.query);
    if (query !== undefined) appendQuery(url, query);
    const replaces = next.json !== undefined || next.body !== undefined;
    request = {
      url,
      query,
      json: replaces ? next.json : info.request.json,
      body: replaces ? next.body : info.request.body,
    };
  } else {
    throw new PaginationError(
      `next() returned ${typeof next}: expected a URL, a request object or undefined`,
      'ERR_PAGINATION_NEXT',
      page,
    );
  }
  const where = { method: response.method, url: response.url };
  const { url } = request;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PaginationError(
      `Refusing a next page at a ${url.protocol} URL`,
      'ERR_PAGINATION_ORIGIN',
      page,
      where,
    );
  }
  if (!r.allowOtherOrigins && !sameOrigin(url, r.origin)) {
    throw new PaginationError(
      `Refusing a next page on ${url.origin}, another origin than ${r.origin} (pass allowOtherOrigins: true to follow it; credentials are not sent there)`,
      'ERR_PAGINATION_ORIGIN',
      page,
      where,
    );
  }
  // Userinfo in a link never becomes credentials (as in a redirect's Location); the first URL's
  // does, on its own origin (the redirect step drops the Authorization it makes anywhere else).
  url.username = r.start.username;
  url.password = r.start.password;
  return request;
}

/** The pages of a call, each sent through the stack, cut at `maxPages` and `maxItems`. */
async function* walk<Item>(sender: PageSender, r: Resolved): AsyncGenerator<Page<Item>> {
  const signal = r.call.signal as AbortSignal | undefined;
  const items = (r.items ?? jsonItems) as (
    res: HttpResponse,
    page: number,
  ) => readonly Item[] | Promise<readonly Item[]>;
  let request: PageRequest | undefined = {
    url: r.first,
    query: r.query,
    json: r.call.json,
    body: r.call.body as RequestBody | undefined,
  };
  let itemCount = 0;
  for (let page = 1; request !== undefined; page++) {
    if (signal?.aborted) throw signal.reason;
    const call = Object.assign(readRequestOptions(undefined), r.call, {
      json: request.json,
      body: request.body,
    });
    const response = await sender.send(request.url, call, r.origin);
    try {
      if (!response.ok) throw new HttpStatusError(response, { expected: '2xx for a page' });
      const found = await items(response, page);
      if (!Array.isArray(found)) {
        throw new PaginationError(
          `items() returned ${typeof found} for page ${page}: expected an array`,
          'ERR_PAGINATION_ITEMS',
          page,
          { method: response.method, url: response.url },
        );
      }
      const kept =
        found.length > r.maxItems - itemCount
          ? found.slice(0, r.maxItems - itemCount)
          : found.slice();
      itemCount += kept.length;
      const info: PageInfo<Item> = { response, items: kept, page, itemCount, request };
      const more = page < r.maxPages && itemCount < r.maxItems;
      let following: PageRequest | undefined;
      if (more && r.next) following = nextRequest(r, info, await r.next(info));
      else if (more) {
        const link = findLink(response.headers.get('link'), response.url || request.url);
        following = link && nextRequest(r, info, link);
        if (following && following.url.href === request.url.href) {
          throw new PaginationError(
            'The next link points to the page itself',
            'ERR_PAGINATION_LOOP',
            page,
            { method: response.method, url: response.url },
          );
        }
      }
      request = following;
      if (signal?.aborted) throw signal.reason;
      yield { page, items: kept, response };
    } finally {
      // Never rejects; a no-op for a body already read. Runs on `break` too (the generator's return()).
      await response.discard();
    }
  }
}

/**
 * The pages of a list, for `client.pages()`: options are checked now, pages fetched as the
 * iteration asks for them.
 */
export function paginatePages<Item>(
  sender: PageSender,
  url: string | URL,
  options: unknown,
): AsyncGenerator<Page<Item>> {
  return walk<Item>(sender, resolvePagination(sender, url, options));
}

/** The items of a list, for `client.paginate()`: options are checked now, pages fetched as needed. */
export function paginateItems<Item>(
  sender: PageSender,
  url: string | URL,
  options: unknown,
): AsyncGenerator<Item> {
  const r = resolvePagination(sender, url, options);
  return eachItem<Item>(walk<Item>(sender, r), r.call.signal as AbortSignal | undefined);
}

async function* eachItem<Item>(
  pages: AsyncGenerator<Page<Item>>,
  signal: AbortSignal | undefined,
): AsyncGenerator<Item> {
  for await (const page of pages) {
    for (const item of page.items) {
      // A call's abort rejects the call: here, the next step of the iteration.
      if (signal?.aborted) throw signal.reason;
      yield item;
    }
  }
}
