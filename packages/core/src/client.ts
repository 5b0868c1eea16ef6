// createClient(): checks the stack and the options once, and gives the client object whose methods
// follow one walk: request.ts builds the call's Context, call.ts runs it through the onion, whose
// last step (redirect.ts) checks the request and follows redirects before the transport.
import { execute } from './call.js';
import {
  type ClientOptions,
  type ResolvedClientOptions,
  resolveClientOptions,
} from './client-options.js';
import { chain } from './compose.js';
import { ConfigError } from './errors.js';
import { middlewareInfo, middlewareName } from './middleware-info.js';
import { createRedirectStep } from './redirect.js';
import { paginateItems, paginatePages } from './paginate.js';
import type { Page, PageSender, PaginateOptions } from './paginate-options.js';
import {
  buildContext,
  type CallOptions,
  readRequestOptions,
  type RequestOptions,
} from './request.js';
import { resolveUrl } from './url.js';
import { warnStackOrder } from './stack-lint.js';
import type { Context, Handler, HttpResponse, Middleware, Transport } from './types.js';

/** The interface application code depends on; any stack satisfies it. */
export interface Client {
  /** Sends a request with `options.method` (default `GET`); see {@link RequestOptions}. */
  request(url: string | URL, options?: RequestOptions): Promise<HttpResponse>;
  /** Sends a GET; see {@link RequestOptions}. */
  get(url: string | URL, options?: Omit<RequestOptions, 'method'>): Promise<HttpResponse>;
  /** Sends a POST; see {@link RequestOptions}. */
  post(url: string | URL, options?: Omit<RequestOptions, 'method'>): Promise<HttpResponse>;
  /** Sends a PUT; see {@link RequestOptions}. */
  put(url: string | URL, options?: Omit<RequestOptions, 'method'>): Promise<HttpResponse>;
  /** Sends a PATCH; see {@link RequestOptions}. */
  patch(url: string | URL, options?: Omit<RequestOptions, 'method'>): Promise<HttpResponse>;
  /** Sends a DELETE; see {@link RequestOptions}. */
  delete(url: string | URL, options?: Omit<RequestOptions, 'method'>): Promise<HttpResponse>;
  /** Sends a HEAD; see {@link RequestOptions}. */
  head(url: string | URL, options?: Omit<RequestOptions, 'method'>): Promise<HttpResponse>;
  /** Sends an OPTIONS; see {@link RequestOptions}. */
  options(url: string | URL, options?: Omit<RequestOptions, 'method'>): Promise<HttpResponse>;
  /**
   * The items of a paginated list, page after page as the iteration asks for them: each page is one
   * call through the whole stack with `options`' request options, the next one found by
   * `Link: <…>; rel="next"` or by `options.next`. Options are checked now (`ConfigError`).
   * See {@link PaginateOptions}.
   * @example
   * for await (const repo of client.paginate<Repo>('/orgs/acme/repos', { maxItems: 500 })) {
   *   console.log(repo.name);
   * }
   */
  paginate<Item = unknown>(
    url: string | URL,
    options?: PaginateOptions<Item>,
  ): AsyncIterableIterator<Item>;
  /**
   * The pages of a paginated list, as {@link Client.paginate} fetches them: `{ page, items, response }`,
   * for the headers of each page (`X-Total-Count`, rate-limit headers).
   * @example
   * for await (const { items, response } of client.pages<Repo>('/orgs/acme/repos')) {
   *   console.log(items.length, response.headers.get('x-ratelimit-remaining'));
   * }
   */
  pages<Item = unknown>(
    url: string | URL,
    options?: PaginateOptions<Item>,
  ): AsyncIterableIterator<Page<Item>>;
  /** The terminal of the stack: reach the undici `Agent` or the `fetch` in use through it. */
  readonly transport: Transport;
  /**
   * The pipeline by name, outside-in, ending in the transport: each middleware's declared name
   * (`defineMiddleware`), `anonymous` for one that declared none.
   */
  describe(): string[];
  /** A new client on the same stack and transport with these options merged over the current ones. */
  extend(options: ClientOptions): Client;
  /** Closes the transport's connections. */
  close(): Promise<void>;
  /** Closes the transport, for `await using`; see {@link Client.close}. */
  [Symbol.asyncDispose](): Promise<void>;
}

function isTransport(value: unknown): value is Transport {
  return typeof value === 'function' && (value as Partial<Transport>).isTransport === true;
}

/**
 * Builds a client from a stack: middleware outside-in, then the transport last.
 * Throws `ConfigError` when the stack has no transport, the transport is not last, an element is
 * not a function, or an option is invalid or unknown.
 * @example
 * const client = createClient([retry(), expectStatus([200]), undiciTransport()], {
 *   baseUrl: 'https://api.partner.example/v1',
 *   timeoutMs: 10_000,
 * });
 * const res = await client.get('/items/42', { pathTemplate: '/items/:id' });
 * console.log(await res.json());
 */
export function createClient(
  stack: ReadonlyArray<Middleware | Transport>,
  options?: ClientOptions,
): Client {
  if (!Array.isArray(stack))
    throw new ConfigError('stack', stack, 'expected an array of middleware ending in a transport');
  stack.forEach((element, i) => {
    if (typeof element !== 'function') {
      throw new ConfigError(
        `stack[${i}]`,
        element,
        'expected a middleware function or a transport',
      );
    }
    if (isTransport(element) && i !== stack.length - 1) {
      throw new ConfigError(
        `stack[${i}]`,
        element,
        'the transport must be the last element of the stack',
      );
    }
  });
  const transport = stack[stack.length - 1];
  if (!isTransport(transport)) {
    throw new ConfigError(
      'stack',
      transport,
      'the last element must be a transport: undiciTransport() from @extapi/backend-undici or fetchTransport() from @extapi/backend-fetch',
    );
  }
  const middleware = stack.slice(0, -1) as Middleware[];
  const resolved = resolveClientOptions(options);
  warnStackOrder(middleware, resolved.logger);
  return buildClient(middleware, transport, resolved, options ?? {});
}

function buildClient(
  middleware: Middleware[],
  transport: Transport,
  resolved: ResolvedClientOptions,
  input: ClientOptions,
): Client {
  const run = chain(middleware);
  const terminal: Handler = createRedirectStep(transport, resolved);
  const next = (ctx?: Context) => terminal(ctx!);
  // describe() lists declared names (defineMiddleware), never function names, which minifiers
  // rename. The "did not return a response" error points an author at their own code, so there
  // an undeclared middleware falls back to its function name: a label, never a decision.
  const names = middleware.map(middlewareName);
  const labels = middleware.map((fn, i) => (middlewareInfo(fn) ? names[i]! : fn.name || names[i]!));

  function send(input: string | URL, options: unknown, method?: string): Promise<HttpResponse> {
    let o: CallOptions;
    try {
      o = readRequestOptions(options, method);
    } catch (error) {
      return Promise.reject(error);
    }
    return start(input, o);
  }

  /** Runs one call whose options are read; `origin` for a page of paginate() (see buildContext). */
  function start(input: string | URL, o: CallOptions, origin?: string): Promise<HttpResponse> {
    let ctx: Context;
    const signal = o.signal as AbortSignal | undefined;
    try {
      ctx = buildContext(input, o, resolved, origin);
    } catch (error) {
      return Promise.reject(error);
    }
    if (ctx.scope.aborted)
      return Promise.reject(signal?.aborted ? signal.reason : ctx.scope.reason);
    return execute(run, next, labels, ctx, signal);
  }

  const request = (url: string | URL, options?: RequestOptions) => send(url, options);
  const method =
    (name: string) =>
    (url: string | URL, options?: Omit<RequestOptions, 'method'>): Promise<HttpResponse> =>
      send(url, options, name);

  const pager: PageSender = {
    resolve: (url) => resolveUrl(url, resolved.base, resolved.allowAbsoluteUrls),
    send: start,
    check: (url, o, origin) => buildContext(url, o, resolved, origin).scope.dispose(),
  };

  const described = [...names, `${transport.transportName}Transport`];

  const client: Client = {
    request,
    get: method('GET'),
    post: method('POST'),
    put: method('PUT'),
    patch: method('PATCH'),
    delete: method('DELETE'),
    head: method('HEAD'),
    options: method('OPTIONS'),
    paginate: (url, options) => paginateItems(pager, url, options),
    pages: (url, options) => paginatePages(pager, url, options),
    transport,
    describe: () => described.slice(),
    extend: (more) => {
      const merged: ClientOptions = { ...input, ...more };
      return buildClient(middleware, transport, resolveClientOptions(merged), merged);
    },
    close: () => transport.close(),
    [Symbol.asyncDispose]: () => transport.close(),
  };
  return Object.freeze(client);
}
