// What fails on a runtime today, each with its reason: README.md's runtimes table lists every entry
// as a "no". A listed check that passes fails the run, so this list can only shrink.

const STACKED_CODINGS =
  "the runtime's fetch does not decode stacked codings (`gzip, br`) and backend-fetch hands the body on as the runtime decoded it";
const MANUAL_UNDECODABLE =
  "the runtime's fetch rejects reading an undecodable body with a TypeError that backend-fetch maps to ERR_INVALID_REQUEST, not ERR_CONTENT_DECODING";

/** By runtime, then `<transport> conformance` or `<transport> middleware`: check title → reason. */
export const EXPECTED_FAILURES = {
  bun: {
    'fetch conformance': {
      'decodes a "gzip, br" response body': STACKED_CODINGS,
      'redirect: manual hands back a 3xx whose body cannot be decoded with the decoding error on reading':
        MANUAL_UNDECODABLE,
    },
  },
  deno: {
    'fetch conformance': {
      'decodes a "deflate" response body':
        "Deno's fetch does not decode `content-encoding: deflate` and backend-fetch hands the body on as the runtime decoded it",
      'decodes a "gzip, br" response body': STACKED_CODINGS,
      'redirect: manual hands back a 3xx whose body cannot be decoded with the decoding error on reading':
        MANUAL_UNDECODABLE,
    },
  },
};

/** Transports a runtime cannot run at all, with the reason. */
export const UNSUPPORTED_TRANSPORTS = {
  bun: {
    undici:
      'Bun serves `import \'undici\'` from its own built-in module, whose Agent has no `request()` (every call: TransportError "dispatcher.request is not a function")',
  },
};
