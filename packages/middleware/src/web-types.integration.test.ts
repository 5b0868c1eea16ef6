// The published declarations as a consumer's `tsc` sees them (the built dist of core,
// backend-fetch and middleware; turbo builds them before the tests): under the `default` condition
// (bundlers for browsers and workers) `HttpResponse.body` is a web ReadableStream and no
// declaration needs @types/node; under the `node` condition it is a Node Readable.
import { createRequire } from 'node:module';
import { join } from 'node:path';

const ts = createRequire(__filename)('typescript') as typeof import('typescript');

// Every subpath of @extapi/middleware, so that none of them pulls Node's types into a web project.
const SUBPATHS = Object.keys(
  (createRequire(__filename)('../package.json') as { exports: Record<string, unknown> }).exports,
).filter((key) => key.startsWith('./') && key !== './package.json');

// In the package directory, so that node_modules/@extapi/* and middleware's own name resolve.
const DIR = join(__dirname, '..', '__consumer__');

// Exact type equality: a Readable (or any extra member of a union) makes the two differ.
const EQUALS = `
type Equals<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
`;

/** A consumer that uses every package; `extra` holds the runtime's own assertions. */
function consumer(extra: string): string {
  return `
import { type BodyStream, createClient, type HttpResponse, readBody, type RequestBody } from '@extapi/core';
import { fetchTransport } from '@extapi/backend-fetch';
import { expectStatus, headers, logging, retry, timeout } from '@extapi/middleware';
${EQUALS}
const client = createClient([
  logging(), retry(), timeout({ ms: 1_000 }), headers({ 'x-app': 'demo' }), expectStatus([200]),
  fetchTransport(),
]);

export async function use(): Promise<number> {
  const res: HttpResponse = await client.get('/items', { readBody: false });
  const sameBody: Equals<typeof res.body, BodyStream | null> = true;
  const bytes: Uint8Array = await res.bytes();
  const text: string = await res.text();
  const data = await res.json<{ id: number }>();
  await res.discard();
  const upload: RequestBody = new Uint8Array(1);
  return bytes.byteLength + text.length + data.id + Number(sameBody) + Number(Boolean(upload));
}
${extra}
`;
}

// The web consumer: DOM, no @types/node at all, no skipLibCheck, no `node` condition.
const WEB = consumer(`
${SUBPATHS.map((key, i) => `export * as sub${i} from '@extapi/middleware/${key.slice(2)}';`).join('\n')}
export async function web(res: HttpResponse): Promise<void> {
  const body: ReadableStream<Uint8Array> | null = res.body;
  const exact: Equals<typeof res.body, ReadableStream<Uint8Array> | null> = true;
  const bytes: Equals<Awaited<ReturnType<typeof readBody>>, Uint8Array> = true;
  // A Node Readable is no request body here (only web streams and async iterables).
  const stream: Equals<Extract<RequestBody, { pipe: unknown }>, never> = true;
  void [body, exact, bytes, stream];
}
`);

// A bundler project that has @types/node (a Vite app with tests): still the web types, and the
// test kit (import/require only, so the same for every condition) agrees with them.
const WEB_WITH_NODE_TYPES = `${WEB}
import type { Readable } from 'node:stream';
import { mockTransport } from '@extapi/core/testing';
export const mocked = createClient([retry(), mockTransport([{ status: 200, body: 'ok' }])]);
export function notReadable(res: HttpResponse): void {
  // @ts-expect-error a web ReadableStream is not a Node Readable
  const node: Readable | null = res.body;
  void node;
}
`;

// The Node consumer: the `node` condition, as today.
const NODE = consumer(`
import type { Readable } from 'node:stream';
export async function node(res: HttpResponse): Promise<void> {
  const body: Readable | null = res.body;
  const exact: Equals<typeof res.body, Readable | null> = true;
  const bytes: Equals<Awaited<ReturnType<typeof readBody>>, Buffer> = true;
  const upload: RequestBody = body!;
  void [exact, bytes, upload];
}
`);

const WEB_OPTIONS = {
  target: 'ES2022',
  module: 'ESNext',
  moduleResolution: 'Bundler',
  lib: ['ES2022', 'DOM'],
  types: [],
  strict: true,
  skipLibCheck: false,
  noEmit: true,
};

/** Type-checks `source` as `<DIR>/<name>` with the given tsconfig `compilerOptions`. */
function typeCheck(name: string, source: string, json: Record<string, unknown>) {
  const { options, errors } = ts.convertCompilerOptionsFromJson(json, DIR);
  expect(errors).toEqual([]);
  const file = join(DIR, name);
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (path) => path === file || fileExists.call(host, path);
  host.readFile = (path) => (path === file ? source : readFile.call(host, path));
  host.getSourceFile = (path, language, ...rest) =>
    path === file
      ? ts.createSourceFile(path, source, language)
      : getSourceFile.call(host, path, language, ...rest);
  const program = ts.createProgram([file], options, host);
  const diagnostics = ts
    .getPreEmitDiagnostics(program)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  const files = program.getSourceFiles().map((f) => f.fileName);
  return { diagnostics, files };
}

/** The declaration files of core, backend-fetch and middleware that the program loaded. */
function extapiDeclarations(files: string[]): string[] {
  return files.filter((f) =>
    /packages\/(core|backend-fetch|middleware)\/(dist|platform-types)\//.test(f),
  );
}

describe('the declarations a consumer type-checks against', () => {
  it('default condition: body is a ReadableStream<Uint8Array>, and no Node type is needed', () => {
    const { diagnostics, files } = typeCheck('web.ts', WEB, WEB_OPTIONS);
    expect(diagnostics).toEqual([]);
    expect(files.filter((f) => f.includes('@types/node'))).toEqual([]);
    // The web declarations were the ones checked, core's included.
    const loaded = extapiDeclarations(files);
    expect(loaded).toEqual(
      expect.arrayContaining([expect.stringMatching(/core\/platform-types\/web\.d\.cts$/)]),
    );
    expect(loaded.filter((f) => f.endsWith('platform-types/index.d.cts'))).toEqual([]);
  });

  it('default condition with @types/node present: still web types, and the test kit agrees', () => {
    const { diagnostics } = typeCheck('web-node-types.ts', WEB_WITH_NODE_TYPES, {
      ...WEB_OPTIONS,
      types: ['node'],
    });
    expect(diagnostics).toEqual([]);
  });

  it('node condition: body is a Node Readable, bytes a Buffer (node16 and bundler + node)', () => {
    for (const options of [
      { module: 'Node16', moduleResolution: 'Node16' },
      { module: 'ESNext', moduleResolution: 'Bundler', customConditions: ['node'] },
    ]) {
      const { diagnostics, files } = typeCheck('node.mts', NODE, {
        ...WEB_OPTIONS,
        ...options,
        lib: ['ES2022'],
        types: ['node'],
      });
      expect({ options, diagnostics }).toEqual({ options, diagnostics: [] });
      expect(files.some((f) => f.endsWith('core/platform-types/index.d.cts'))).toBe(true);
    }
  });

  it('a wrong expectation fails (the check has teeth)', () => {
    const wrong = consumer(`
export function wrong(res: HttpResponse): void {
  const exact: Equals<typeof res.body, ReadableStream<Uint8Array> | null> = true;
  void exact;
}
`);
    const { diagnostics } = typeCheck('wrong.mts', wrong, {
      ...WEB_OPTIONS,
      module: 'Node16',
      moduleResolution: 'Node16',
      lib: ['ES2022'],
      types: ['node'],
    });
    expect(diagnostics).toEqual([
      expect.stringMatching(/Type 'true' is not assignable to type 'false'/),
    ]);
  });
});
