import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { count, eq } from 'drizzle-orm';
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { afterEach, expect, test } from 'vitest';
import { InvalidSqlError, SqliteError, openWriteQueue } from '@litescribe/core';
import type { WriteQueue } from '@litescribe/core';
import { drizzleQueue } from '@litescribe/drizzle';

const users = sqliteTable('users', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull().unique(),
});
const posts = sqliteTable('posts', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  userId: integer('user_id').notNull(),
  title: text('title').notNull(),
});
const SCHEMA = [
  'CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE)',
  'CREATE TABLE posts (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL, title TEXT NOT NULL)',
];

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0)) await fn();
});
async function open(): Promise<{ q: WriteQueue; db: ReturnType<typeof drizzleQueue> }> {
  const dir = mkdtempSync(join(tmpdir(), 'litescribe-drizzle-'));
  const q = await openWriteQueue({ path: join(dir, 'd.db'), setup: SCHEMA });
  cleanups.push(async () => {
    await q.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { q, db: drizzleQueue(q) };
}

test('1,000 concurrent Drizzle inserts share transactions (group commit); selects, joins included, read them back', async () => {
  const { q, db } = await open();
  await Promise.all(Array.from({ length: 1000 }, (_, i) => db.insert(users).values({ name: `u${i}` }).run()));
  expect(q.stats().opsCommitted).toBe(1000);
  expect(q.stats().transactions).toBeLessThan(100);
  expect(await db.select({ n: count() }).from(users)).toEqual([{ n: 1000 }]);
  await db.insert(posts).values({ userId: 1, title: 'hello' }).run();
  // Both tables have an `id` column: rows travel as arrays, so neither hides the other.
  const joined = await db.select().from(posts).innerJoin(users, eq(users.id, posts.userId));
  expect(joined).toEqual([{ posts: { id: 1, userId: 1, title: 'hello' }, users: { id: 1, name: 'u0' } }]);
  expect(await db.select().from(users).where(eq(users.name, 'u999')).get()).toEqual({ id: 1000, name: 'u999' });
});

test('db.batch() is one atomic q.batch: all of it commits, or (one statement failing) none of it', async () => {
  const { q, db } = await open();
  const before = q.stats().transactions;
  const res = await db.batch([db.insert(users).values({ name: 'a' }), db.insert(users).values({ name: 'b' }), db.update(users).set({ name: 'c' }).where(eq(users.name, 'b'))]);
  expect(res.map((r) => (r as { changes: number }).changes)).toEqual([1, 1, 1]);
  expect(q.stats().transactions).toBe(before + 1);
  const failed = await db.batch([db.insert(users).values({ name: 'd' }), db.insert(users).values({ name: 'a' })]).catch((e: unknown) => e);
  expect(failed).toBeInstanceOf(SqliteError);
  expect((failed as SqliteError).code).toBe('SQLITE_CONSTRAINT_UNIQUE');
  expect((await db.select({ name: users.name }).from(users)).map((r) => r.name).sort()).toEqual(['a', 'c']);
});

test('typed errors surface through Drizzle; transactions and reads in a batch are refused with a clear error', async () => {
  const { db } = await open();
  await db.insert(users).values({ name: 'x' }).run();
  // Drizzle wraps a failing query's error (DrizzleQueryError, "Failed query: …"); litescribe's typed error is its cause.
  const causeOf = (p: Promise<unknown>): Promise<unknown> => p.then(() => null, (e: unknown) => (e as Error).cause ?? e);
  const dup = await causeOf(db.insert(users).values({ name: 'x' }).run());
  expect(dup).toBeInstanceOf(SqliteError);
  expect((dup as SqliteError).code).toBe('SQLITE_CONSTRAINT_UNIQUE');
  const tx = await causeOf(db.transaction(async (t) => t.insert(users).values({ name: 'y' }).run()));
  expect(tx).toBeInstanceOf(InvalidSqlError);
  expect((tx as Error).message).toMatch(/db\.batch/);
  const mixed = await causeOf(db.batch([db.insert(users).values({ name: 'w' }), db.select().from(users)]));
  expect(mixed).toBeInstanceOf(InvalidSqlError);
  expect((mixed as Error).message).toMatch(/writes only/);
  // Nothing of those stayed; the queue is still usable.
  expect((await db.select({ name: users.name }).from(users)).map((r) => r.name)).toEqual(['x']);
});

test("Drizzle's .returning(): inserts, updates and deletes resolve with their rows, alone and in db.batch()", async () => {
  const { db } = await open();
  expect(await db.insert(users).values({ name: 'ada' }).returning()).toEqual([{ id: 1, name: 'ada' }]);
  expect(await db.insert(users).values([{ name: 'bob' }, { name: 'cy' }]).returning({ id: users.id })).toEqual([{ id: 2 }, { id: 3 }]);
  expect(await db.update(users).set({ name: 'ADA' }).where(eq(users.id, 1)).returning({ name: users.name }).get()).toEqual({ name: 'ADA' });
  const [post, removed] = await db.batch([
    db.insert(posts).values({ userId: 1, title: 'hi' }).returning(),
    db.delete(users).where(eq(users.name, 'cy')).returning({ id: users.id, name: users.name }),
  ]);
  expect(post).toEqual([{ id: 1, userId: 1, title: 'hi' }]);
  expect(removed).toEqual([{ id: 3, name: 'cy' }]);
  expect((await db.select({ name: users.name }).from(users)).map((r) => r.name).sort()).toEqual(['ADA', 'bob']);
  // A failing returning write rejects with the typed error, and nothing of it stays.
  const dup = await db.insert(users).values({ name: 'bob' }).returning().then(() => null, (e: unknown) => (e as Error).cause ?? e);
  expect(dup).toBeInstanceOf(SqliteError);
});
