// The README's demo: starts the embedded local API (no internet needed) and runs the
// full-featured example against it, printing what happened in a few readable lines.
import { startDemoServer } from './demo-server.mjs';
import { runFullFeatured } from './full-featured.mjs';

const api = await startDemoServer();
console.log(`demo API on ${api.url}\n`);
try {
  const metrics = await runFullFeatured(api.url, (line) => console.log(`  ${line}`));
  console.log(`\nthe server answered ${api.stats.requests} requests; Prometheus exposition of the calls:\n`);
  // The counters in full; the histograms' bucket lines are left out to keep the output short.
  for (const line of metrics.split('\n')) {
    if (line.startsWith('#') || line === '' || line.includes('_bucket{')) continue;
    console.log(`  ${line}`);
  }
} finally {
  await api.close();
}
