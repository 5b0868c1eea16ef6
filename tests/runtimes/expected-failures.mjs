// What fails on a runtime today, each with its reason: README.md's runtimes table lists every entry
// as a "no". A listed check that passes fails the run, so this list can only shrink.

const BUN_FETCH_ERRORS =
  "Bun's fetch rejects with a TypeError that has a `code` (ECONNREFUSED, ECONNRESET) and no `cause`; backend-fetch's map-error.ts maps a cause-less TypeError to ExtapiError ERR_INVALID_REQUEST, not TransportError";
const DENO_FETCH_ERRORS =
  "Deno's fetch rejects with a TypeError whose cause has no `code` (connection refused: TransportError ERR_NETWORK, not ECONNREFUSED) or with no cause at all (a cut body: ExtapiError ERR_INVALID_REQUEST, not TransportError)";
const STACKED_CODINGS =
  "the runtime's fetch does not decode stacked codings (`gzip, br`) and backend-fetch hands the body on as the runtime decoded it";
const MANUAL_UNDECODABLE =
  "the runtime's fetch rejects reading an undecodable body with a TypeError that backend-fetch maps to ERR_INVALID_REQUEST, not ERR_CONTENT_DECODING";

const NETWORK_ERROR_CASES = [
  'connection refused rejects with TransportError code ECONNREFUSED, method and URL',
  'a server reset in the middle of the body rejects with TransportError code ECONNRESET',
  'a streamed body cut while it is read rejects with TransportError code ECONNRESET (/reset)',
  'a streamed body cut while it is read rejects with TransportError code ECONNRESET (/reset, size-limited)',
  'a streamed body cut while it is read rejects with TransportError code ECONNRESET (/reset-gzip)',
  'a body that ends before its content-length rejects with TransportError, read whole and streamed',
  'a body that ends before its content-length rejects with TransportError, read whole and streamed (gzip)',
];
const CUT_RETRY = 'retry re-sends a GET whose response body was cut by the connection closing';
const all = (titles, reason) => Object.fromEntries(titles.map((title) => [title, reason]));

/** By runtime, then `<transport> conformance` or `<transport> middleware`: check title → reason. */
export const EXPECTED_FAILURES = {
  bun: {
    'fetch conformance': {
      ...all(NETWORK_ERROR_CASES, BUN_FETCH_ERRORS),
      'decodes a "gzip, br" response body': STACKED_CODINGS,
      'redirect: manual hands back a 3xx whose body cannot be decoded with the decoding error on reading':
        MANUAL_UNDECODABLE,
    },
    'fetch middleware': { [CUT_RETRY]: `${BUN_FETCH_ERRORS}, which retry() does not re-send` },
  },
  deno: {
    'fetch conformance': {
      ...all(NETWORK_ERROR_CASES, DENO_FETCH_ERRORS),
      'decodes a "deflate" response body':
        "Deno's fetch does not decode `content-encoding: deflate` and backend-fetch hands the body on as the runtime decoded it",
      'decodes a "gzip, br" response body': STACKED_CODINGS,
      'redirect: manual hands back a 3xx whose body cannot be decoded with the decoding error on reading':
        MANUAL_UNDECODABLE,
    },
    'fetch middleware': { [CUT_RETRY]: `${DENO_FETCH_ERRORS}, which retry() does not re-send` },
  },
};

/** Transports a runtime cannot run at all, with the reason. */
export const UNSUPPORTED_TRANSPORTS = {
  bun: {
    undici:
      'Bun serves `import \'undici\'` from its own built-in module, whose Agent has no `request()` (every call: TransportError "dispatcher.request is not a function")',
  },
};
