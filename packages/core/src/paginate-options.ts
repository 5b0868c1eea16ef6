// The options of client.paginate() and client.pages(): their types, defaults and the one place
// they are checked (when the method is called, before any page is fetched).
import { isReplayableBody } from './body.js';
import { ConfigError } from './errors.js';
import { type OptionSpec, option, readOptions, unknownOption } from './options.js';
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
export type NextPage = string | URL | NextPageRequest | undefined | null | false;

/** The next page as a change of the first page's request (see {@link NextPage}). */
export interface NextPageRequest {
  /** Replaces the first page's URL; relative to the page's URL. @default the first page's URL */
  url?: string | URL;
  /** Merged over the call's `query`: a key given here replaces it, `undefined` removes it. */
  query?: Query;
  /** Replaces the call's `json` (and `body`). */
  json?: unknown;
  /** Replaces the call's `body` (and `json`). */
  body?: RequestBody;
}

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
  /** Checks a page's request options as `send` would, sending nothing (throws `ConfigError`). */
  check(url: URL, options: CallOptions, origin: string): void;
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

/** The checked options of one `paginate()` or `pages()` call. */
export type ResolvedPagination = ReturnType<typeof resolvePagination>;

/** Splits and checks the options at call time: unknown names and bad values are `ConfigError`s. */
export function resolvePagination(sender: PageSender, url: string | URL, input: unknown) {
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
  // Every request option is checked now, as the first page will be sent, not when it is.
  sender.check(first, call, start.origin);
  return { ...options, call, query, start, first, origin: start.origin };
}
