import { join } from 'node:path';
import { expect, test } from 'vitest';
import { reader, spawnFixture, tempDir } from './helpers.js';

// The setting litescribe exists for: many processes, each with its own queue, on one file.
test.each([8, 16])('%i processes writing interleaved rows with pauses and reads: nothing fails, nothing is lost', async (processes) => {
  const path = join(tempDir(), 'shared.db');
  const perProcess = 60;
  const children = Array.from({ length: processes }, (_, id) => spawnFixture('mp-writer.mjs', [path, String(id), String(perProcess), '4']));
  const codes = await Promise.all(children.map((c) => c.exited));
  const failures = children.flatMap((c, i) => (codes[i] === 0 ? [] : [`p${i}: ${codes[i]} ${c.lines.join(' ')}`]));
  expect(failures).toEqual([]);
  for (const c of children) expect(c.lines).toContain(`done ${perProcess}`);
  const db = reader(path);
  expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  const counts = db.prepare('SELECT session_id, count(*) AS n, count(DISTINCT seq) AS d FROM messages GROUP BY session_id ORDER BY session_id').all() as Array<{ session_id: string; n: number; d: number }>;
  expect(counts).toHaveLength(processes);
  for (const c of counts) expect([c.n, c.d]).toEqual([perProcess, perProcess]);
  // The writes really interleaved: rows of different processes alternate in commit order.
  const order = db.prepare('SELECT session_id FROM messages ORDER BY id').pluck().all() as string[];
  const switches = order.filter((s, i) => i > 0 && s !== order[i - 1]).length;
  expect(switches).toBeGreaterThan(processes);
});
