// Shared jest setup for every package: TypeScript and ESM-only packages (add them to ESM_ONLY;
// p-limit and yocto-queue are the classic case) are compiled to CommonJS by @swc/jest, so jest runs
// in its stable CommonJS mode and no --experimental-vm-modules flag is needed.
const ESM_ONLY = ['p-limit', 'yocto-queue'].join('|');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'].filter((dir) =>
    require('node:fs').existsSync(dir.replace('<rootDir>', process.cwd())),
  ),
  transform: {
    '^.+\\.(t|j|mj)s$': [
      require.resolve('@swc/jest'),
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'commonjs' },
      },
    ],
  },
  transformIgnorePatterns: [`node_modules/(?!(\\.pnpm/(${ESM_ONLY})@|${ESM_ONLY}/))`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  testMatch: ['**/*.test.ts'],
  // Source imports use NodeNext-style ".js" suffixes; map them back to the .ts file.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testTimeout: 15_000,
};
