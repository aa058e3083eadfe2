import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, sql } from 'kysely';
import { afterEach, expect, test } from 'vitest';
import { InvalidSqlError, SqliteError, openWriteQueue } from '@litescribe/core';
import type { WriteQueue } from '@litescribe/core';
import { LitescribeDialect, kyselyBatch } from '@litescribe/kysely';

interface DB {
  users: { id: number | null; name: string };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0)) await fn();
});
async function open(): Promise<{ q: WriteQueue; db: Kysely<DB> }> {
  const dir = mkdtempSync(join(tmpdir(), 'litescribe-kysely-'));
  const q = await openWriteQueue({ path: join(dir, 'k.db'), setup: 'CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)' });
  const db = new Kysely<DB>({ dialect: new LitescribeDialect({ queue: q }) });
  cleanups.push(async () => {
    await db.destroy();
    await q.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { q, db };
}

test('1,000 concurrent Kysely inserts share transactions (group commit); selects go to the readers', async () => {
  const { q, db } = await open();
  const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => db.insertInto('users').values({ id: null, name: `u${i}` }).executeTakeFirstOrThrow()));
  expect(results.every((r) => r.numInsertedOrUpdatedRows === 1n)).toBe(true);
  expect(new Set(results.map((r) => r.insertId)).size).toBe(1000);
  expect(q.stats().transactions).toBeLessThan(100);
  const { n } = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  expect(n).toBe(1000);
  expect(q.stats().reads).toBe(1);
  const raw = await sql<{ name: string }>`select name from users where id = ${1}`.execute(db);
  expect(raw.rows).toEqual([{ name: 'u0' }]);
  const updated = await db.updateTable('users').set({ name: 'renamed' }).where('id', '=', 2).executeTakeFirstOrThrow();
  expect(updated.numUpdatedRows).toBe(1n);
});

test('kyselyBatch: Kysely-built writes commit atomically in one transaction, or not at all', async () => {
  const { q, db } = await open();
  const before = q.stats().transactions;
  await kyselyBatch(q, [db.insertInto('users').values({ id: 1, name: 'a' }), db.insertInto('users').values({ id: 2, name: 'b' })]);
  expect(q.stats().transactions).toBe(before + 1);
  const err = await kyselyBatch(q, [db.insertInto('users').values({ id: 3, name: 'c' }), db.insertInto('users').values({ id: 4, name: 'a' })]).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SqliteError);
  expect((err as SqliteError).code).toBe('SQLITE_CONSTRAINT_UNIQUE');
  expect((await db.selectFrom('users').select('name').orderBy('id').execute()).map((r) => r.name)).toEqual(['a', 'b']);
});

test('typed errors surface through Kysely; transaction() is refused with a clear error', async () => {
  const { db } = await open();
  await db.insertInto('users').values({ id: 1, name: 'x' }).execute();
  const dup = await db.insertInto('users').values({ id: 2, name: 'x' }).execute().catch((e: unknown) => e);
  expect(dup).toBeInstanceOf(SqliteError);
  expect((dup as SqliteError).code).toBe('SQLITE_CONSTRAINT_UNIQUE');
  const tx = await db.transaction().execute(async (t) => t.insertInto('users').values({ id: 3, name: 'y' }).execute()).catch((e: unknown) => e);
  expect(tx).toBeInstanceOf(InvalidSqlError);
  expect((tx as Error).message).toMatch(/kyselyBatch/);
  expect((await db.selectFrom('users').select('name').execute()).map((r) => r.name)).toEqual(['x']);
});

test("Kysely's returning / returningAll: a write resolves with its rows, committed with it", async () => {
  const { db } = await open();
  const inserted = await db.insertInto('users').values({ name: 'ada' }).returningAll().executeTakeFirstOrThrow();
  expect(inserted).toEqual({ id: 1, name: 'ada' });
  const many = await db.insertInto('users').values([{ name: 'bob' }, { name: 'cy' }]).returning(['id']).execute();
  expect(many).toEqual([{ id: 2 }, { id: 3 }]);
  const updated = await db.updateTable('users').set({ name: 'ADA' }).where('id', '=', 1).returning(['id', 'name']).execute();
  expect(updated).toEqual([{ id: 1, name: 'ADA' }]);
  const deleted = await db.deleteFrom('users').where('id', '>', 1).returning('name').execute();
  expect(deleted.map((r) => r.name).sort()).toEqual(['bob', 'cy']);
  // Without returning, a write still resolves its counts.
  const plain = await db.insertInto('users').values({ name: 'dee' }).executeTakeFirst();
  expect(plain.numInsertedOrUpdatedRows).toBe(1n);
  expect((await db.selectFrom('users').select('name').orderBy('id').execute()).map((r) => r.name)).toEqual(['ADA', 'dee']);
});
