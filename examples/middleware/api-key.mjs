// apiKey(): an API key header on every pass, options read with core's options kit. A region of
// docs/writing-middleware.md (checked word for word by custom-middleware.test.mjs).
// #region options-kit
import {
  ConfigError,
  defineMiddleware,
  markSensitiveHeader,
  option,
  readOptions,
} from '@extapi/core';

// One spec per factory: a check per option, read once. In TypeScript add
// `satisfies OptionSpec<ApiKeyOptions>` so the spec cannot drift from the options type.
const API_KEY_OPTIONS = {
  key: option.secret(option.string()), // a bad key is refused without being quoted
  header: option.string('x-api-key'),
};

/** Sends an API key in a header on every pass; the header is marked sensitive. */
export function apiKey(options) {
  // Own properties only; an unknown key throws ConfigError with "did you mean …?".
  const { key, header } = readOptions('apiKey()', options, API_KEY_OPTIONS);
  if (key === undefined) throw new ConfigError('key', undefined, 'expected the API key');
  const middleware = async function apiKey(ctx, next) {
    ctx.request.headers.set(header, key);
    markSensitiveHeader(ctx, header);
    return next(ctx);
  };
  // A declared name, which survives minification, for the pipeline's description and the stack lint.
  return defineMiddleware(middleware, { name: 'apiKey' });
}
// #endregion options-kit
