// The Drizzle adapter in a strict TypeScript program. skipLibCheck stays on here: drizzle-orm 0.45's
// own declarations do not pass a check with it off (TS2344/TS2515 inside drizzle-orm itself).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { integer, sqliteTable } from 'drizzle-orm/sqlite-core';
import { openWriteQueue } from '@litescribe/core';
import { drizzleQueue } from '@litescribe/drizzle';

const t = sqliteTable('t', { x: integer('x').notNull() });
const q = await openWriteQueue({ path: join(mkdtempSync(join(tmpdir(), 'consumer-')), 'drizzle.db'), setup: 'CREATE TABLE t (x INTEGER NOT NULL)' });
const db = drizzleQueue(q);
await db.batch([db.insert(t).values({ x: 1 }), db.insert(t).values({ x: 2 })]);
const rows: Array<{ x: number }> = await db.select().from(t);
await q.close();
if (rows.length !== 2) throw new Error('ts: drizzle adapter');
console.log('ts (drizzle): ok (strict, nodenext, skipLibCheck true; ran)');
