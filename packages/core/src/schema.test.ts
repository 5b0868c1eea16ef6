import { Readable } from 'node:stream';
import * as v from 'valibot';
import { z } from 'zod';
import type { ResponseValidationError } from './errors.js';
import { isConfigError, isResponseValidationError } from './error-guards.js';
import { createResponse } from './response.js';
import { describeIssues, isStandardSchema, issuePath } from './schema-issues.js';
import type { StandardSchemaV1 } from './standard-schema.js';
import type { HttpResponse } from './types.js';

const SECRET = 'sk_live_9f8e7d6c5b4a';

function response(body: string, stream = false): HttpResponse {
  return createResponse({
    status: 200,
    headers: new Headers({ 'content-type': 'application/json' }),
    url: 'https://api.test/users/1?api_key=hunter2',
    method: 'GET',
    body: stream ? Readable.from([Buffer.from(body)]) : Buffer.from(body),
  });
}

async function failure(promise: Promise<unknown>): Promise<ResponseValidationError> {
  const error = await promise.catch((e: unknown) => e);
  expect(isResponseValidationError(error)).toBe(true);
  return error as ResponseValidationError;
}

const ZodUser = z.object({ id: z.number(), name: z.string(), tags: z.array(z.string()) });
const ValibotUser = v.object({ id: v.number(), name: v.string(), tags: v.array(v.string()) });
const GOOD = '{"id":1,"name":"Ada","tags":["a"],"extra":true}';

/** A schema whose validate returns a Promise, as an async refinement would. */
function asyncSchema<T>(check: (value: unknown) => value is T): StandardSchemaV1<unknown, T> {
  return {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate: async (value) => {
        await new Promise((resolve) => setImmediate(resolve));
        return check(value) ? { value } : { issues: [{ message: 'not accepted', path: ['id'] }] };
      },
    },
  };
}

describe('res.json(schema)', () => {
  test.each([
    ['zod', ZodUser],
    ['valibot', ValibotUser],
  ])('returns the output of a %s schema, for a buffered and a streamed body', async (_, schema) => {
    for (const stream of [false, true]) {
      // Both libraries strip unknown keys from objects by default: the schema's output, not the body.
      expect(await response(GOOD, stream).json(schema)).toEqual({
        id: 1,
        name: 'Ada',
        tags: ['a'],
      });
    }
  });

  test('returns the transformed output of the schema', async () => {
    const schema = z.object({ at: z.string().transform((s) => new Date(s)) });
    const { at } = await response('{"at":"2026-01-02T03:04:05Z"}').json(schema);
    expect(at).toBeInstanceOf(Date);
  });

  test.each([
    ['zod', ZodUser],
    ['valibot', ValibotUser],
  ])('rejects a mismatch with %s as a ResponseValidationError', async (_, schema) => {
    for (const stream of [false, true]) {
      const res = response(`{"id":"${SECRET}","name":"Ada","tags":[1]}`, stream);
      const error = await failure(res.json(schema));
      expect(error.code).toBe('ERR_RESPONSE_VALIDATION');
      expect(error.status).toBe(200);
      expect(error.method).toBe('GET');
      expect(error.response).toBe(res);
      expect(error.issues.map((i) => issuePath(i.path))).toEqual(['$.id', '$.tags[0]']);
      expect(error.message).toMatch(
        /^Response body with status 200 does not match the schema: \$\.id: /,
      );
      expect(error.message).toContain('$.tags[0]: ');
      expect(error.message).not.toContain(SECRET);
      expect(error.message).not.toContain('hunter2');
      expect(JSON.stringify(error)).not.toContain(SECRET);
      expect(Object.keys(error)).not.toContain('issues');
    }
  });

  test('keeps a numeric secret of a wrong-typed field out of the message', async () => {
    const error = await failure(response('{"pin":48213579}').json(v.object({ pin: v.string() })));
    expect(error.message).toContain('$.pin: ');
    expect(error.message).not.toContain('48213579');
  });

  test('waits for a schema whose validate returns a Promise', async () => {
    const schema = asyncSchema((value): value is { id: number } => {
      return typeof (value as { id?: unknown }).id === 'number';
    });
    const ok: { id: number } = await response('{"id":7}').json(schema);
    expect(ok).toEqual({ id: 7 });
    const error = await failure(response('{"id":"x"}').json(schema));
    expect(error.message).toContain('$.id: not accepted');
  });

  test('validates once per call of json(schema)', async () => {
    let calls = 0;
    const schema: StandardSchemaV1<unknown, unknown> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (value) => {
          calls++;
          return { value };
        },
      },
    };
    const res = response('{}');
    await res.json(schema);
    expect(calls).toBe(1);
    await res.json();
    expect(calls).toBe(1);
  });

  test('invalid JSON is still ERR_INVALID_JSON, before any schema runs', async () => {
    const error = await response('{oops')
      .json(ZodUser)
      .catch((e: unknown) => e);
    expect((error as { code: string }).code).toBe('ERR_INVALID_JSON');
  });

  test('an error thrown by a schema reaches the caller unchanged', async () => {
    const boom = new Error('schema bug');
    const schema = z.object({}).transform(() => {
      throw boom;
    });
    await expect(response('{}').json(schema)).rejects.toBe(boom);
  });

  test.each([[{}], [{ '~standard': { version: 2, validate: () => ({}) } }], ['string']])(
    'refuses %p as a schema with a ConfigError',
    async (schema) => {
      const error = await response('{}')
        .json(schema as never)
        .catch((e: unknown) => e);
      expect(isConfigError(error)).toBe(true);
      expect((error as { option: string }).option).toBe('schema');
    },
  );

  test('without a schema json() is unchanged', async () => {
    expect(await response(GOOD).json()).toEqual(JSON.parse(GOOD));
  });
});

describe('describeIssues()', () => {
  test.each([
    [[], '$'],
    [['a', 0, 'b'], '$.a[0].b'],
    [[{ key: 'a-b' }, { key: 2 }], '$["a-b"][2]'],
    [[Symbol('s')], '$[Symbol(s)]'],
    [['k'.repeat(50)], `$["${'k'.repeat(40)}…"]`],
  ])('writes the path %p as %s', (path, expected) => {
    expect(issuePath(path)).toBe(expected);
  });

  test('lists three issues and counts the rest', () => {
    const issues = Array.from({ length: 5 }, (_, i) => ({ message: `bad ${i}`, path: [i] }));
    expect(describeIssues(issues, [])).toBe(
      '$[0]: bad 0; $[1]: bad 1; $[2]: bad 2; and 2 more issues',
    );
  });

  test('takes quoted values and the value at the path out of messages, and shortens them', () => {
    const body = { token: 'abc123secret', n: 3 };
    expect(
      describeIssues(
        [
          { message: 'Expected number but received "abc123secret"', path: ['token'] },
          { message: 'got abc123secret here', path: ['token'] },
          { message: 'Expected >=30 but received 3', path: ['n'] },
          { message: 'x'.repeat(300) },
        ],
        body,
      ),
    ).toBe(
      `$.token: Expected number but received [REDACTED]; $.token: got [REDACTED] here; $.n: Expected >=30 but received [REDACTED]; and 1 more issue`,
    );
    expect(describeIssues([{ message: 'x'.repeat(300) }], body)).toBe(`$: ${'x'.repeat(120)}…`);
  });

  test('isStandardSchema recognises zod and valibot schemas only', () => {
    expect(isStandardSchema(ZodUser)).toBe(true);
    expect(isStandardSchema(ValibotUser)).toBe(true);
    expect(isStandardSchema({ parse() {} })).toBe(false);
    expect(isStandardSchema(null)).toBe(false);
  });
});

describe('the type of res.json(schema)', () => {
  test('is inferred from the schema', async () => {
    const user = await response(GOOD).json(ZodUser);
    const id: number = user.id;
    // @ts-expect-error: name is a string, not a number
    const wrong: number = user.name;
    const tags: string[] = (await response(GOOD).json(ValibotUser)).tags;
    // @ts-expect-error: the valibot schema has no `email`
    (await response(GOOD).json(ValibotUser)).email;
    // Without a schema: unknown, or the caller's type argument (unchecked, as before).
    const raw = await response(GOOD).json();
    // @ts-expect-error: unknown has no properties
    raw.id;
    const typed = await response(GOOD).json<{ id: number }>();
    expect([id, wrong, tags, typed.id]).toEqual([1, 'Ada', ['a'], 1]);
  });
});
