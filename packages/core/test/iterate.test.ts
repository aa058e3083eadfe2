import { expect, test } from 'vitest';
import { InvalidOptionError } from '@litescribe/core';
import { openTestQueue } from './helpers.js';

const INSERT = 'INSERT INTO messages(session_id, seq, content) VALUES (?, ?, ?)';

async function seeded(n: number) {
  const { q, path } = await openTestQueue();
  await Promise.all(Array.from({ length: n }, (_, i) => q.run(INSERT, [i % 2 === 0 ? 'even' : 'odd', i, `m${i}`])));
  return { q, path };
}

test('iterate() walks a large result page by page, each page one read, in order', async () => {
  const { q } = await seeded(2_500);
  const readsBefore = q.stats().reads;
  const seqs: number[] = [];
  for await (const row of q.iterate<{ seq: number }>('SELECT seq FROM messages WHERE session_id = ? ORDER BY seq', ['even'], { pageSize: 100 })) seqs.push(row.seq);
  expect(seqs).toEqual(Array.from({ length: 1_250 }, (_, i) => i * 2));
  expect(q.stats().reads - readsBefore).toBe(13); // 12 full pages and the short last one
  const named: number[] = [];
  for await (const row of q.iterate<{ seq: number }>('SELECT seq FROM messages WHERE session_id = :s ORDER BY seq', { s: 'odd' }, { pageSize: 500 })) named.push(row.seq);
  expect(named.length).toBe(1_250);
});

test('no snapshot is held between pages: a TRUNCATE checkpoint completes while an iteration is paused halfway', async () => {
  const { q } = await seeded(1_000);
  const it = q.iterate<{ id: number }>('SELECT id FROM messages', [], { pageSize: 100, key: 'id' });
  for (let i = 0; i < 150; i++) await it.next(); // mid-way through the second page
  await q.run(INSERT, ['late', 5_000, 'late']);
  const report = await q.checkpoint('truncate');
  expect(report.busy).toBe(false);
  expect(report.walBytesAfter).toBe(0);
  let rest = 0;
  for (let r = await it.next(); r.done !== true; r = await it.next()) rest += 1;
  expect(rest).toBe(1_001 - 150); // the late row's key is past every page read so far: it is seen
});

test('with key, rows that exist throughout are seen exactly once even while rows before the cursor are deleted', async () => {
  const { q } = await seeded(1_000);
  const seen = new Map<number, number>();
  let page = 0;
  for await (const row of q.iterate<{ id: number }>('SELECT id FROM messages', [], { pageSize: 50, key: 'id' })) {
    seen.set(row.id, (seen.get(row.id) ?? 0) + 1);
    if (++page === 100) await q.run('DELETE FROM messages WHERE id <= 20'); // behind the cursor
  }
  expect(seen.size).toBe(1_000);
  expect([...seen.values()].every((c) => c === 1)).toBe(true);
  await expect(q.iterate('SELECT 1', [], { pageSize: 0 }).next()).rejects.toBeInstanceOf(InvalidOptionError);
});
