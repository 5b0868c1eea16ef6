// client.paginate() and client.pages(): an async iterable over the pages of a list, each page one
// call through the whole stack (middleware see every page), following `Link: rel="next"` or `next()`.
import { HttpStatusError, PaginationError } from './errors.js';
import { findLink } from './link-header.js';
import {
  type NextPage,
  type Page,
  type PageInfo,
  type PageRequest,
  type PageSender,
  type ResolvedPagination,
  resolvePagination,
} from './paginate-options.js';
import type { HttpResponse, RequestBody } from './types.js';
import { appendQuery, originOf, type Query } from './url.js';

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

/** A URL from next(); URL's own error is not kept, since it quotes the input (userinfo too). */
function parseNext(value: string | URL, base: string | URL, page: number): URL {
  try {
    return new URL(value, base);
  } catch {
    throw new PaginationError('next() returned an invalid URL', 'ERR_PAGINATION_NEXT', page);
  }
}

/** The page after `info`, checked against the first page's origin; `undefined` at the end. */
function nextRequest(
  r: ResolvedPagination,
  info: PageInfo<unknown>,
  next: NextPage,
): PageRequest | undefined {
  if (next === undefined || next === null || next === false) return undefined;
  const { response, page } = info;
  const base = response.url || info.request.url;
  let request: PageRequest;
  if (typeof next === 'string' || next instanceof URL) {
    const url = parseNext(next, base, page);
    if (r.query !== undefined && url.search === '') appendQuery(url, r.query);
    request = { ...info.request, url };
  } else if (typeof next === 'object') {
    const url = next.url === undefined ? new URL(r.start.href) : parseNext(next.url, base, page);
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
  if (!r.allowOtherOrigins && originOf(url) !== r.origin) {
    throw new PaginationError(
      `Refusing a next page on ${url.origin}, another origin than ${r.origin} (pass allowOtherOrigins: true to follow it; credentials are not sent there)`,
      'ERR_PAGINATION_ORIGIN',
      page,
      where,
    );
  }
  // Userinfo in a link never becomes credentials (as in a redirect's Location); the first URL's
  // does, on its own origin only.
  const own = originOf(url) === r.origin;
  url.username = own ? r.start.username : '';
  url.password = own ? r.start.password : '';
  return request;
}

/** The pages of a call, each sent through the stack, cut at `maxPages` and `maxItems`. */
async function* walk<Item>(sender: PageSender, r: ResolvedPagination): AsyncGenerator<Page<Item>> {
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
    const call = { ...r.call, json: request.json, body: request.body };
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
