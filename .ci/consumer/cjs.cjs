// CommonJS consumer: require() of the ES module packages (Node >= 20.19 / 22.12 load ES modules from require()).
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { openWriteQueue } = require('@litescribe/core');

(async () => {
  const q = await openWriteQueue({ path: join(mkdtempSync(join(tmpdir(), 'consumer-')), 'cjs.db'), setup: 'CREATE TABLE t (x INTEGER)' });
  await q.batch([{ sql: 'INSERT INTO t VALUES (?)', params: [40] }, { sql: 'INSERT INTO t VALUES (?)', params: [2] }]);
  const rows = await q.all('SELECT x FROM t ORDER BY x');
  await q.close();
  if (rows.map((r) => r.x).join() !== '2,40') throw new Error(`cjs: got ${JSON.stringify(rows)}`);
  console.log(`cjs: ok (require() of @litescribe/core on Node ${process.version})`);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
