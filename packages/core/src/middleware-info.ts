// defineMiddleware(): how a middleware tells the stack check and describe() its name and placement.
// Read when a client is built or a stack is linted, never per call: the function itself is unchanged.
import { ConfigError } from './errors.js';
import { type OptionCheck, option, type OptionSpec, readOptions } from './options.js';
import type { Middleware } from './types.js';

/**
 * Where a middleware must sit in a stack, as {@link lintStack} checks it. Every field is optional;
 * an empty placement means "anywhere".
 */
export interface MiddlewarePlacement {
  /**
   * `'attempt'`: must run on every attempt, so after (inside) every middleware that re-sends
   * (`retry()`); `'call'`: must run once per call, so before (outside) every one of them.
   */
  per?: 'call' | 'attempt';
  /** Names of middleware this one must sit inside of (come after in the array) when they are present. */
  inside?: readonly string[];
  /** Names of middleware this one must sit outside of (come before in the array) when they are present. */
  outside?: readonly string[];
  /** It may call `next` more than once (retry, hedging): the boundary between per call and per attempt. */
  resends?: boolean;
  /** At most one in a stack (two `retry()` multiply their attempts). */
  unique?: boolean;
  /** It answers without calling `next`: whatever follows it never runs. */
  terminal?: boolean;
  /** Why the placement matters, in a few words; the warning quotes it. */
  reason?: string;
}

/** What a middleware declares about itself with {@link defineMiddleware}. */
export interface MiddlewareInfo {
  /** The name `describe()`, warnings and errors show: the factory's name (`retry`, `requestId`). */
  name: string;
  /** Where it must sit; see {@link MiddlewarePlacement}. @default {} (anywhere) */
  placement?: MiddlewarePlacement;
}

/** A declaration as stored on the function: validated and frozen. */
export interface ResolvedMiddlewareInfo {
  /** See {@link MiddlewareInfo.name}. */
  readonly name: string;
  /** See {@link MiddlewarePlacement}; names are deduplicated. */
  readonly placement: Readonly<Required<Omit<MiddlewarePlacement, 'per' | 'reason'>>> &
    Pick<MiddlewarePlacement, 'per' | 'reason'>;
}

// Symbol.for, not a module-private symbol: a middleware built against another installed copy of
// core (two versions in node_modules) must still be recognised by the copy that runs the client.
const INFO: unique symbol = Symbol.for('extapi.middleware') as never;

// Items are never absent (an `undefined` item is checked as `null`), so each is a string.
const names = option.array(option.string() as OptionCheck<string>, []);
const PLACEMENT_SPEC = {
  per: option.oneOf(['call', 'attempt'] as const),
  inside: names,
  outside: names,
  resends: option.boolean(false),
  unique: option.boolean(false),
  terminal: option.boolean(false),
  reason: option.string(),
} satisfies OptionSpec<MiddlewarePlacement>;

/**
 * Declares a middleware's name and placement, so `client.describe()` and the stack check
 * ({@link lintStack}) know it by what it says, not by its function name (which a minifier
 * renames) nor by properties of this project's own middleware. Third-party middleware use it the
 * same way, and get the same warnings.
 *
 * Why a helper that stores the declaration under a `Symbol.for('extapi.middleware')` property,
 * rather than a wrapper or a registry: the function returned is the one given, so declaring adds
 * nothing to a call (the declaration is read once, when a client is built); the helper validates
 * the declaration at factory time (`ConfigError` naming the field); and a global-registry symbol is
 * shared by every installed copy of core and never collides with an author's own properties.
 * Call it once per factory call (it sets a property on `fn`; declaring the same function twice
 * replaces the first declaration).
 * @example
 * export function requestId(): Middleware {
 *   return defineMiddleware(
 *     async function requestId(ctx, next) {
 *       ctx.request.headers.set('x-request-id', crypto.randomUUID());
 *       return next(ctx);
 *     },
 *     { name: 'requestId', placement: { per: 'attempt', reason: 'each attempt needs its own id' } },
 *   );
 * }
 */
export function defineMiddleware<F extends Middleware>(fn: F, info: MiddlewareInfo): F {
  if (typeof fn !== 'function') throw new ConfigError('fn', fn, 'expected a middleware function');
  const { name, placement } = readOptions('defineMiddleware()', info, {
    name: option.string(),
    placement: option.object(PLACEMENT_SPEC, 'defineMiddleware() placement'),
  });
  if (name === undefined) throw new ConfigError('name', undefined, 'expected a non-empty string');
  const resolved: ResolvedMiddlewareInfo = Object.freeze({
    name,
    placement: Object.freeze({
      ...placement,
      inside: [...new Set(placement.inside)],
      outside: [...new Set(placement.outside)],
    }),
  });
  // Not enumerable: spreading or logging the function shows nothing new.
  Object.defineProperty(fn, INFO, { value: resolved, configurable: true });
  return fn;
}

/**
 * The declaration {@link defineMiddleware} stored on a middleware, or `undefined` for one that
 * declared nothing.
 * @example
 * middlewareInfo(retry())?.name; // 'retry'
 */
export function middlewareInfo(fn: unknown): ResolvedMiddlewareInfo | undefined {
  if (typeof fn !== 'function') return undefined;
  const info = (fn as { [INFO]?: ResolvedMiddlewareInfo })[INFO];
  return typeof info === 'object' && info !== null && typeof info.name === 'string'
    ? info
    : undefined;
}

/**
 * The name a middleware declared, else `'anonymous'`: what `describe()`, stack warnings and the
 * "did not return a response" error show. The function's own name is never read (a minifier
 * renames it).
 * @example
 * middlewareName(expectStatus()); // 'expectStatus'
 */
export function middlewareName(fn: unknown): string {
  return middlewareInfo(fn)?.name ?? 'anonymous';
}
