// The page's entry (bundled for the browser): runs the checks against the servers named in the
// page's query and leaves the outcome in window.__results for the runner to read.
import { runChecks } from './checks.mjs';

const query = new URLSearchParams(location.search);
window.__results = runChecks({
  runtime: 'chromium',
  api: query.get('api'),
  other: query.get('other'),
}).catch((error) => ({ passed: 0, failed: 1, expected: 0, lines: [`not ok - ${error.stack}`] }));
