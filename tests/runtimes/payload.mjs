// The JSON item the routes answer, in a module of its own: the web checks (tests/web) bundle it for a
// page and a worker, which cannot load server.mjs (node:zlib).

/** The JSON item the routes answer. */
export const PAYLOAD = { id: 42, name: 'gzipped item', tags: ['a', 'b'], nested: { ok: true } };
