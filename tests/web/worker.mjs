// The worker's entry (bundled for workerd): a POST with `{ api, other }` runs the checks against
// those servers and answers the outcome as JSON.
import { runChecks } from './checks.mjs';

export default {
  async fetch(request) {
    const { api, other } = await request.json();
    try {
      return Response.json(await runChecks({ runtime: 'workerd', api, other }));
    } catch (error) {
      return Response.json({
        passed: 0,
        failed: 1,
        expected: 0,
        lines: [`not ok - ${error.stack}`],
      });
    }
  },
};
