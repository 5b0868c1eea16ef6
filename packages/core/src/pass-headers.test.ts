import { inspect } from 'node:util';
import { mockTransport } from './testing/index.js';
import { createClient } from './client.js';
import { peekHeaders } from './context.js';
import { copiesThroughIterator, headerKey } from './lazy-headers.js';
import { ClientHeaders, headerList, PassHeaders } from './pass-headers.js';

const client = (init: Record<string, string>) => new ClientHeaders(new Headers(init));

// The same edits on a PassHeaders and on a plain copy of its client's headers must read alike.
function both(init: Record<string, string>, edit: (h: Headers) => void): [Headers, Headers] {
  const pass = new PassHeaders(client(init));
  const copy = new Headers(init);
  edit(pass);
  edit(copy);
  return [pass, copy];
}

describe('ClientHeaders', () => {
  it('refuses writes, so the list made once cannot go stale', () => {
    const h = client({ accept: 'application/json' });
    expect(h.list()).toEqual(['accept', 'application/json']);
    expect(() => h.set('accept', 'text/plain')).toThrow(/read-only/);
    expect(() => h.append('x-a', '1')).toThrow(/read-only/);
    expect(() => h.delete('accept')).toThrow(/read-only/);
    expect(h.get('accept')).toBe('application/json');
  });
  it('answers get and has as a plain Headers does, from its list', () => {
    const init: [string, string][] = [
      ['accept', 'a/b'],
      ['x-twice', '1'],
      ['X-Twice', '2'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
    ];
    const h = new ClientHeaders(new Headers(init));
    const plain = new Headers(init);
    for (const name of ['accept', 'ACCEPT', 'x-twice', 'set-cookie', 'x-none']) {
      expect([name, h.get(name), h.has(name)]).toEqual([name, plain.get(name), plain.has(name)]);
    }
    expect(() => h.get('bad name')).toThrow(/invalid header name/);
  });
});

describe('PassHeaders', () => {
  it('reads through to the client for what it did not write, and its own writes for the rest', () => {
    const [pass, copy] = both({ accept: 'a/b', 'x-gone': '1', 'x-keep': '2' }, (h) => {
      h.set('Authorization', '  Bearer t\t');
      h.set('accept', 'c/d');
      h.delete('X-Gone');
      h.delete('x-never-there');
    });
    for (const name of ['accept', 'authorization', 'x-gone', 'x-keep', 'x-never-there', 'ACCEPT']) {
      expect([name, pass.get(name), pass.has(name)]).toEqual([
        name,
        copy.get(name),
        copy.has(name),
      ]);
    }
    // The client's untouched headers first, then the pass's own in the order first written.
    expect(headerList(pass)).toEqual(['x-keep', '2', 'authorization', 'Bearer t', 'accept', 'c/d']);
    expect([...pass]).toEqual([...copy]);
  });

  it('lists a pass over a client without headers as it was written, a deleted header left out', () => {
    const pass = new PassHeaders(client({}));
    pass.set('x-a', '1');
    pass.set('x-b', '2');
    pass.delete('x-a');
    expect(headerList(pass)).toEqual(['x-b', '2']);
    pass.set('x-a', '3');
    expect(headerList(pass)).toEqual(['x-a', '3', 'x-b', '2']);
  });

  it('never writes to the client it reads from', () => {
    const base = client({ accept: 'a/b' });
    const pass = new PassHeaders(base);
    pass.set('accept', 'c/d');
    pass.delete('accept');
    pass.append('x-a', '1');
    expect([...base]).toEqual([['accept', 'a/b']]);
    expect(new PassHeaders(base).get('accept')).toBe('a/b');
  });

  it('becomes a whole Headers for anything else, keeping what was written', () => {
    const edits = (h: Headers) => {
      h.set('x-a', '1');
      h.delete('accept');
      h.append('x-b', '2');
      h.append('x-b', '3');
      h.set('x-c', '4');
    };
    const [pass, copy] = both({ accept: 'a/b', 'x-z': '9' }, edits);
    expect([...pass]).toEqual([...copy]);
    expect(headerList(pass)).toEqual([...copy].flat());
    expect(inspect(pass)).toBe(inspect(new Headers([...copy])));
    const seen: string[] = [];
    pass.forEach((value, name) => {
      seen.push(`${name}=${value}`);
    });
    expect(seen).toEqual([...copy].map(([n, v]) => `${n}=${v}`));
  });

  it.each([
    ['a name with a space', 'x a', '1'],
    ['a CR in the value', 'x-a', 'a\rb'],
    ['a NUL in the value', 'x-a', 'a\0b'],
    ['a value past Latin-1', 'x-a', 'snow ☃'],
  ])('throws what Headers throws for %s', (_what, name, value) => {
    const thrown = (set: () => void) => {
      try {
        set();
      } catch (error) {
        return `${(error as Error).name}: ${(error as Error).message}`;
      }
      return 'nothing';
    };
    const pass = new PassHeaders(client({}));
    const expected = thrown(() => new Headers().set(name, value));
    expect(expected).toMatch(/^TypeError: /);
    expect(thrown(() => pass.set(name, value))).toBe(expected);
  });

  it('converts what Headers converts (a number value)', () => {
    const [pass, copy] = both({}, (h) => h.set('x-n', 5 as unknown as string));
    expect(pass.get('x-n')).toBe(copy.get('x-n'));
    expect(headerList(pass)).toEqual(['x-n', '5']);
  });

  it('is recorded by the mock transport as the wire list, a `__proto__` header an own key', async () => {
    const transport = mockTransport([{ status: 200 }]);
    const api = createClient([
      (ctx, next) => {
        ctx.request.headers.set('__proto__', 'p');
        ctx.request.headers.set('x-a', '1');
        return next(ctx);
      },
      transport,
    ]);
    await api.get('http://api.test/');
    const { headers } = transport.requests[0]!;
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(Object.entries(headers)).toEqual([
      ['__proto__', 'p'],
      ['x-a', '1'],
    ]);
  });

  it('is used only where new Headers() copies through the iterator (Node does; Bun reads storage)', () => {
    // tests/runtimes checks the other side: written headers reach the server on Bun.
    expect(copiesThroughIterator).toBe(true);
    const pass = new PassHeaders(client({ accept: 'a/b' }));
    pass.set('authorization', 'Bearer t');
    expect(Object.fromEntries(new Headers(pass))).toEqual({
      accept: 'a/b',
      authorization: 'Bearer t',
    });
  });

  it('is what a middleware writes over a client with headers, and the wire gets its list', async () => {
    let sent: Headers | undefined;
    const api = createClient(
      [
        (ctx, next) => {
          ctx.request.headers.set('authorization', 'Bearer t');
          ctx.request.headers.delete('x-drop');
          return next(ctx);
        },
        (ctx, next) => {
          sent = peekHeaders(ctx.request);
          return next(ctx);
        },
        mockTransport([{ status: 200 }]),
      ],
      { headers: { accept: 'a/b', 'x-drop': '1' } },
    );
    await api.get('http://api.test/');
    expect(sent).toBeInstanceOf(PassHeaders);
    expect(headerList(sent!)).toEqual(['accept', 'a/b', 'authorization', 'Bearer t']);
    expect(Object.fromEntries(sent!)).toEqual({ accept: 'a/b', authorization: 'Bearer t' });
  });
});

describe('headerKey', () => {
  it('lower-cases a valid name and refuses others, the same on every ask and past its memo', () => {
    const names = Array.from({ length: 700 }, (_, i) => `X-Made-Up-${i}`);
    for (let round = 0; round < 2; round++) {
      expect(names.map(headerKey)).toEqual(names.map((n) => n.toLowerCase()));
      expect(['bad name', 'naïve', '', 'a:b', 5, undefined].map(headerKey)).toEqual(
        Array(6).fill(undefined),
      );
    }
  });
});
