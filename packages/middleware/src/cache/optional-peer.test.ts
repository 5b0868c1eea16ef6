// As for a user who never installed http-cache-semantics: the package root must not need it.
jest.mock('http-cache-semantics', () => {
  throw new Error("Cannot find module 'http-cache-semantics'");
});

describe('without http-cache-semantics installed', () => {
  test('the package root loads and does not export cache', () => {
    const root = require('../index.js') as Record<string, unknown>;
    expect(typeof root.retry).toBe('function');
    expect(root.cache).toBeUndefined();
  });

  test('the cache subpath fails to load, naming the missing module', () => {
    expect(() => require('./index.js')).toThrow(/http-cache-semantics/);
  });
});
