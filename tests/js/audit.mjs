// The GraphQL-over-HTTP specification's own audit (graphql-http's auditServer) against a
// running server: node audit.mjs http://127.0.0.1:PORT/graphql
// Prints every result that is not ok, then a summary line; exits 1 on any warning or failure.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs URL');
  process.exit(2);
}
const results = await auditServer({ url });
const counts = { ok: 0, warn: 0, error: 0 };
for (const result of results) {
  counts[result.status] = (counts[result.status] ?? 0) + 1;
  if (result.status !== 'ok') {
    console.log(`${result.status.toUpperCase()} ${result.id} ${result.name}: ${result.reason}`);
  }
}
console.log(`audit: ${counts.ok} ok, ${counts.warn} warnings, ${counts.error} failures`);
process.exit(counts.warn + counts.error > 0 ? 1 : 0);
