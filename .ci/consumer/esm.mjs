// ESM consumer of the packed packages: a real file, a write, a read, close.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidOptionError, openWriteQueue } from '@litescribe/core';

const q = await openWriteQueue({ path: join(mkdtempSync(join(tmpdir(), 'consumer-')), 'esm.db'), setup: 'CREATE TABLE t (x INTEGER)' });
await Promise.all([1, 2, 3].map((x) => q.run('INSERT INTO t VALUES (?)', [x])));
const row = await q.get('SELECT sum(x) AS s FROM t');
await q.close();
if (row.s !== 6) throw new Error(`esm: expected 6, got ${JSON.stringify(row)}`);
// PostgreSQL is optional: without @litescribe/pg-writer installed, a url is a clear option error.
const err = await openWriteQueue({ url: 'postgres://localhost/x' }).then(() => null, (e) => e);
if (!(err instanceof InvalidOptionError) || !/@litescribe\/pg-writer/.test(err.message)) throw new Error(`esm: url without pg-writer gave ${err}`);
console.log('esm: ok (write, read, close; url without @litescribe/pg-writer -> InvalidOptionError)');
