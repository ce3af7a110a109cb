// node-postgres (pg) with a pool of clients and an idgen-keyed table:
// concurrent INSERT ... RETURNING from several connections.  Connects where
// PGHOST, PGPORT, PGDATABASE and PGUSER say.
const assert = require('node:assert');
const { Pool } = require('pg');

async function main() {
  const pool = new Pool({ max: 8 });
  const items = Array.from({ length: 400 }, (_, i) => `item ${i}`);
  // bigint keys arrive as strings: exact beyond 2^53
  const results = await Promise.all(items.map((item) =>
    pool.query('INSERT INTO node_orders (item) VALUES ($1) RETURNING id', [item])));
  const inserted = new Map(results.map((r, i) => [r.rows[0].id, items[i]]));

  assert.strictEqual(inserted.size, items.length, 'duplicate keys');
  const { rows } = await pool.query('SELECT id, item FROM node_orders');
  const stored = new Map(rows.map((r) => [r.id, r.item]));
  for (const [id, item] of inserted) {
    assert.strictEqual(stored.get(id), item, `key ${id} not stored as returned`);
  }
  const backends = await pool.query(
    "SELECT count(DISTINCT pid) AS n FROM idgen.backend_ranges WHERE tag = 'node_orders'");
  await pool.end();
  const version = require('pg/package.json').version;
  console.log(`pg ${version} on Node.js ${process.version}: ${inserted.size} distinct keys, ` +
    `each stored as returned, from a pool of ${backends.rows[0].n} connections`);
}

main().catch((err) => { console.error(err); process.exit(1); });
