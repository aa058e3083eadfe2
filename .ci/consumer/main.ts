// TypeScript consumer: type-checked with strict, moduleResolution nodenext, skipLibCheck false.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openWriteQueue, QueueClosedError } from '@litescribe/core';
import type { QueueStats, RunResult, WriteQueue, WriteQueueOptions } from '@litescribe/core';
import { LitescribeDialect } from '@litescribe/kysely';
import { Kysely } from 'kysely';

const options: WriteQueueOptions = { path: join(mkdtempSync(join(tmpdir(), 'consumer-')), 'ts.db'), setup: 'CREATE TABLE t (x INTEGER)' };
const q: WriteQueue = await openWriteQueue(options);
const res: RunResult = await q.run('INSERT INTO t VALUES (?)', [7]);
const row = await q.get<{ x: number }>('SELECT x FROM t');
const stats: QueueStats = q.stats();
// The adapters' declarations type-check too (a strict consumer reads every .d.ts).
const kdb = new Kysely<{ t: { x: number } }>({ dialect: new LitescribeDialect({ queue: q }) });
const viaKysely = await kdb.selectFrom('t').select('x').execute();
if (viaKysely.length !== 1) throw new Error('ts: kysely adapter');
await q.close();
const closed = await q.run('INSERT INTO t VALUES (1)').catch((e: unknown) => e instanceof QueueClosedError);
if (res.changes !== 1 || row?.x !== 7 || stats.opsCommitted !== 1 || closed !== true) throw new Error('ts: unexpected results');
console.log('ts: ok (core and kysely: strict, nodenext, skipLibCheck false; ran)');
