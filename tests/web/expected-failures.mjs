// What fails in a browser or in workerd today, each with its reason: README.md's Runtimes table
// lists every entry as a "no". A listed check that passes fails the run, so this list can only shrink.

/** By runtime (`chromium`, `workerd`): check title → reason. */
export const EXPECTED_FAILURES = {
  chromium: {},
  workerd: {},
};
