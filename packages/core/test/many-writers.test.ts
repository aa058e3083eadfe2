import { join } from 'node:path';
import { expect, test } from 'vitest';
import { reader, spawnFixture, tempDir } from './helpers.js';

// The setting litescribe exists for: many processes, each with its own queue, on one file. With
// `shareWriter: 'auto'` (the default) they share one leader's writer; with 'off' each has its own
// and they take turns on SQLite's lock.
test.each([
  [8, 'auto'],
  [16, 'auto'],
  [16, 'off'],
] as const)('%i processes (shareWriter %s) writing interleaved rows with pauses and reads: nothing fails, nothing is lost, each process in order', async (processes, shareWriter) => {
  const path = join(tempDir(), 'shared.db');
  const perProcess = 60;
  const children = Array.from({ length: processes }, (_, id) => spawnFixture('mp-writer.mjs', [path, String(id), String(perProcess), '4', shareWriter]));
  const codes = await Promise.all(children.map((c) => c.exited));
  const failures = children.flatMap((c, i) => (codes[i] === 0 ? [] : [`p${i}: ${codes[i]} ${c.lines.join(' ')}`]));
  expect(failures).toEqual([]);
  const roles = children.map((c) => c.lines.find((l) => l.startsWith('done '))?.split(' '));
  for (const r of roles) expect(r?.[1]).toBe(String(perProcess));
  if (shareWriter === 'off') expect(new Set(roles.map((r) => r?.[2]))).toEqual(new Set(['solo']));
  else expect(roles.filter((r) => r?.[2] === 'follower').length).toBeGreaterThan(0);
  const db = reader(path);
  expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  const counts = db.prepare('SELECT session_id, count(*) AS n, count(DISTINCT seq) AS d FROM messages GROUP BY session_id ORDER BY session_id').all() as Array<{ session_id: string; n: number; d: number }>;
  expect(counts).toHaveLength(processes);
  for (const c of counts) expect([c.n, c.d]).toEqual([perProcess, perProcess]);
  // Each process's rows committed in the order it enqueued them.
  const bySession = db.prepare('SELECT session_id, group_concat(seq) AS seqs FROM (SELECT session_id, seq FROM messages ORDER BY id) GROUP BY session_id').all() as Array<{ seqs: string }>;
  for (const { seqs } of bySession) expect(seqs).toBe(Array.from({ length: perProcess }, (_, i) => i).join(','));
  // The writes really interleaved: rows of different processes alternate in commit order.
  const order = db.prepare('SELECT session_id FROM messages ORDER BY id').pluck().all() as string[];
  const switches = order.filter((s, i) => i > 0 && s !== order[i - 1]).length;
  expect(switches).toBeGreaterThan(processes);
});
