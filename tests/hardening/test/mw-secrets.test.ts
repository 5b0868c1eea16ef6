// Credentials given to the auth and headers middleware by mistake never show in the ConfigError
// that refuses them: not in its message, stack, cause or util.inspect output (issue 11, issue 12 #2).
import { inspect } from 'node:util';
import { createClient, isConfigError } from '@extapi/core';
import { mockTransport } from '@extapi/core/testing';
import { basicAuth, bearerAuth, headers } from '@extapi/middleware';

const SECRET = 'S3cr3t-Cred-42';

/** Every place a thrown error's text can reach a log. */
function everything(error: unknown): string {
  const e = error as Error;
  return [
    e.message,
    e.stack,
    String(e.cause),
    (e.cause as Error | undefined)?.stack,
    inspect(e, { depth: 10, showHidden: true }),
    JSON.stringify(e),
  ].join('\n');
}

function thrown(make: () => unknown): unknown {
  try {
    make();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('credentials in ConfigErrors of the middleware', () => {
  it.each<[string, () => unknown]>([
    ['bearerAuth given the token instead of a function', () => bearerAuth(SECRET as never)],
    [
      'basicAuth with a password holding a newline',
      () => basicAuth({ username: 'u', password: `${SECRET}\n` }),
    ],
    [
      'basicAuth with a non-string password',
      () => basicAuth({ username: 'u', password: [SECRET] as never }),
    ],
    ['basicAuth given the password instead of options', () => basicAuth(SECRET as never)],
    [
      'headers with an Authorization value holding CR LF',
      () => headers({ authorization: `Bearer ${SECRET}\r\nx-injected: 1` }),
    ],
    ['headers with a Cookie value holding NUL', () => headers({ cookie: `sid=${SECRET}\0` })],
    ['headers with a non-string X-Api-Key', () => headers({ 'x-api-key': [SECRET] as never })],
  ])('%s', (_name, make) => {
    const error = thrown(make);
    expect(isConfigError(error)).toBe(true);
    expect(everything(error)).not.toContain(SECRET);
  });

  it('names the option and what it expects instead', () => {
    const error = thrown(() => bearerAuth(SECRET as never));
    expect(error).toMatchObject({ option: 'getToken' });
    expect((error as Error).message).toContain('[REDACTED]');
    expect((error as Error).message).toContain('expected a function');
  });

  it('still quotes a bad value of a header that holds no credential', () => {
    const error = thrown(() => headers({ 'x-trace': 'a\r\nb' }));
    expect((error as Error).message).toContain('a\\r\\nb');
  });

  it('keeps a token with CR LF from getToken() out of the error of the call', async () => {
    const client = createClient([bearerAuth(() => `${SECRET}\r\n`), mockTransport()]);
    const error = await client.get('http://api.test/').catch((e: unknown) => e);
    expect(isConfigError(error)).toBe(true);
    expect(everything(error)).not.toContain(SECRET);
  });
});
