// ESM consumer of the packed packages: a real file, a write, a read, close.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerUnavailableError, openWriteQueue } from '@litescribe/core';
import { drizzleQueue } from '@litescribe/drizzle';
import { LitescribeDialect } from '@litescribe/kysely';
import { sql as dsql } from 'drizzle-orm';
import { Kysely } from 'kysely';

const q = await openWriteQueue({ path: join(mkdtempSync(join(tmpdir(), 'consumer-')), 'esm.db'), setup: 'CREATE TABLE t (x INTEGER)' });
await Promise.all([1, 2, 3].map((x) => q.run('INSERT INTO t VALUES (?)', [x])));
const row = await q.get('SELECT sum(x) AS s FROM t');
await q.close();
if (row.s !== 6) throw new Error(`esm: expected 6, got ${JSON.stringify(row)}`);
// The query-builder adapters, from their tarballs.
const q2 = await openWriteQueue({ path: join(mkdtempSync(join(tmpdir(), 'consumer-')), 'qb.db'), setup: 'CREATE TABLE t (x INTEGER)' });
await drizzleQueue(q2).run(dsql`INSERT INTO t VALUES (${1})`);
const kdb = new Kysely({ dialect: new LitescribeDialect({ queue: q2 }) });
await kdb.insertInto('t').values({ x: 2 }).execute();
const both = await kdb.selectFrom('t').select('x').orderBy('x').execute();
await q2.close();
if (both.map((r) => r.x).join() !== '1,2') throw new Error(`esm: adapters gave ${JSON.stringify(both)}`);
// @litescribe/pg-writer loads in the queue's threads: a server that is not there is a typed error.
const err = await openWriteQueue({ url: 'postgres://127.0.0.1:9/none' }).then(() => null, (e) => e);
if (!(err instanceof ServerUnavailableError)) throw new Error(`esm: url to a closed port gave ${err}`);
console.log('esm: ok (write, read, close; drizzle and kysely adapters; pg-writer -> ServerUnavailableError)');
