// The hardening suite: the shared preset, plus a longer timeout for the 1 GiB gzip and soak-like cases.
module.exports = { ...require('../../jest.preset.cjs'), testTimeout: 30_000 };
