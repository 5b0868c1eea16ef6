import { inspect } from 'node:util';
import fc from 'fast-check';
import { type HeaderRecord, recordHeaders } from './record-headers.js';
import { createResponse, peekResponseHeaders } from './response.js';
import type { HttpResponse } from './types.js';

/** What a transport built before: a Headers filled with one append per value. */
function filled(record: HeaderRecord): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(record)) {
    if (typeof value === 'string') headers.append(name, value);
    else if (value !== undefined) for (const item of value) headers.append(name, item);
  }
  return headers;
}

const RECORD: HeaderRecord = {
  'content-type': 'application/json',
  'set-cookie': ['a=1; Path=/', 'b=2'],
  vary: ['accept', 'accept-encoding'],
  'x-padded': '  value with spaces\t',
  'x-empty': '',
  'x-absent': undefined,
};

const outcome = (fn: () => unknown) => {
  try {
    return { value: fn() };
  } catch (error) {
    return { threw: (error as Error).constructor.name };
  }
};

describe('recordHeaders', () => {
  it('over a HeaderSource, answers get() and has() one name at a time and asks for all only when it must', () => {
    const record: HeaderRecord = { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] };
    const asked: string[] = [];
    let all = 0;
    const headers = recordHeaders({
      get: (name) => {
        asked.push(name);
        return record[name];
      },
      all: () => {
        all++;
        return record;
      },
    });
    expect(headers.get('Content-Type')).toBe('text/plain');
    expect(headers.has('x-missing')).toBe(false);
    expect(headers.get('set-cookie')).toBe('a=1, b=2');
    expect(asked).toEqual(['content-type', 'x-missing', 'set-cookie']);
    expect(all).toBe(0);
    expect(headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect([...headers]).toEqual([...filled(record)]);
    expect(all).toBe(1);
  });

  test('is a real Headers', () => {
    expect(recordHeaders(RECORD)).toBeInstanceOf(Headers);
  });

  test.each([
    'content-type',
    'Content-Type',
    'SET-COOKIE',
    'vary',
    'x-padded',
    'x-empty',
    'x-absent',
    'missing',
    'constructor',
    '__proto__',
    'toString',
    'bad name',
    'bad:name',
    '',
  ])('get(%j) and has() answer as the filled Headers does, before it is filled', (name) => {
    const lazy = recordHeaders(RECORD);
    const real = filled(RECORD);
    expect(outcome(() => lazy.get(name))).toEqual(outcome(() => real.get(name)));
    expect(outcome(() => lazy.has(name))).toEqual(outcome(() => real.has(name)));
  });

  test('iteration, forEach, keys, values and getSetCookie see every entry', () => {
    const real = filled(RECORD);
    expect([...recordHeaders(RECORD)]).toEqual([...real]);
    expect([...recordHeaders(RECORD).entries()]).toEqual([...real.entries()]);
    expect([...recordHeaders(RECORD).keys()]).toEqual([...real.keys()]);
    expect([...recordHeaders(RECORD).values()]).toEqual([...real.values()]);
    expect(recordHeaders(RECORD).getSetCookie()).toEqual(['a=1; Path=/', 'b=2']);
    const seen: string[] = [];
    recordHeaders(RECORD).forEach((value, name) => {
      seen.push(`${name}=${value}`);
    });
    expect(seen).toEqual([...real].map(([name, value]) => `${name}=${value}`));
    expect(Object.fromEntries(new Headers(recordHeaders(RECORD)))).toEqual(
      Object.fromEntries(real),
    );
  });

  test('changes apply on top of the record', () => {
    const headers = recordHeaders(RECORD);
    headers.set('content-type', 'text/plain');
    headers.append('vary', 'origin');
    headers.delete('x-padded');
    expect(headers.get('content-type')).toBe('text/plain');
    expect(headers.get('vary')).toBe('accept, accept-encoding, origin');
    expect(headers.has('x-padded')).toBe(false);
    expect(headers.get('set-cookie')).toBe('a=1; Path=/, b=2');
  });

  test('util.inspect shows the entries', () => {
    expect(inspect(recordHeaders({ 'x-a': '1' }))).toContain("'x-a'");
  });

  test('an own record only: a polluted prototype adds no header', () => {
    const record = Object.create({ injected: 'yes' }) as HeaderRecord;
    record['x-a'] = '1';
    const headers = recordHeaders(record);
    expect(headers.get('injected')).toBeNull();
    expect([...headers]).toEqual([['x-a', '1']]);
  });

  test('any record of valid names and values answers as the filled Headers (property)', () => {
    const name = fc.stringMatching(/^[a-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
    const value = fc.stringMatching(/^[ \t]?[\x21-\x7e]{0,8}( [\x21-\x7e]{1,4})?[ \t]?$/);
    const entry = fc.oneof(value, fc.array(value, { minLength: 1, maxLength: 3 }));
    fc.assert(
      fc.property(fc.dictionary(name, entry), name, (record, probe) => {
        const lazy = recordHeaders(record);
        const real = filled(record);
        expect(lazy.get(probe)).toBe(real.get(probe));
        expect(lazy.has(probe)).toBe(real.has(probe));
        for (const key of Object.keys(record)) expect(lazy.get(key)).toBe(real.get(key));
        expect([...lazy]).toEqual([...real]);
      }),
    );
  });
});

describe('peekResponseHeaders', () => {
  const NAMES = ['content-type', 'Content-Type', 'SET-COOKIE', 'vary', 'x-padded', 'x-empty'];
  const ODD = ['x-absent', 'missing', 'constructor', '__proto__', 'toString', 'bad name', ''];

  it('answers get() as the Headers would, asking the source one name at a time and never for all', () => {
    let all = 0;
    const asked: string[] = [];
    const source = {
      get: (name: string) => {
        asked.push(name);
        return Object.hasOwn(RECORD, name) ? RECORD[name] : undefined;
      },
      all: () => {
        all++;
        return RECORD;
      },
    };
    const res = createResponse({
      status: 200,
      headers: source,
      url: 'http://a.test/',
      method: 'GET',
      body: null,
    });
    const peek = peekResponseHeaders(res);
    for (const name of [...NAMES, ...ODD]) {
      expect(outcome(() => peek.get(name))).toEqual(outcome(() => filled(RECORD).get(name)));
    }
    expect(asked).toContain('set-cookie');
    expect(all).toBe(0);
    // The response's own headers, built afterwards, still agree.
    expect([...res.headers]).toEqual([...filled(RECORD)]);
    expect(all).toBe(1);
  });

  it('gives the headers themselves when there is no source to ask', () => {
    const headers = new Headers({ 'x-a': '1' });
    const res = createResponse({
      status: 200,
      headers,
      url: 'http://a.test/',
      method: 'GET',
      body: null,
    });
    expect(peekResponseHeaders(res)).toBe(headers);
    const foreign = { headers } as unknown as HttpResponse;
    expect(peekResponseHeaders(foreign)).toBe(headers);
  });
});
