import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, test } from 'vitest';
// @ts-expect-error the example is plain JavaScript
import { buildApp } from '../app.mjs';
import { spawnGateway } from '../spawn-server.mjs';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'litescribe-gateway-'));
  dirs.push(dir);
  return join(dir, 'gateway.db');
}

test('messages are acknowledged after commit and read back; every request leaves an audit row; bad bodies are 400', async () => {
  const path = tempDb();
  const app = await buildApp({ path });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const post = (body: unknown) => fetch(`${url}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => post({ sessionId: 's1', role: 'user', content: `m${i}` })));
    expect(replies.every((r) => r.status === 201)).toBe(true);
    expect((await post({ sessionId: 's1', role: 'nobody', content: 'x' })).status).toBe(400);
    const listed = (await (await fetch(`${url}/messages?sessionId=s1&limit=1000`)).json()) as Array<{ content: string }>;
    expect(listed).toHaveLength(100);
    expect((await (await fetch(`${url}/health`)).json()) as object).toMatchObject({ ok: true });
  } finally {
    await app.close();
  }
  const db = new Database(path, { readonly: true });
  const audit = db.prepare('SELECT route, status, count(*) AS n FROM audit GROUP BY route, status ORDER BY route, status').all();
  db.close();
  // 100 POSTs acknowledged, 1 POST refused, 1 GET; /health is not audited.
  expect(audit).toEqual([
    { route: '/messages', status: 200, n: 1 },
    { route: '/messages', status: 201, n: 100 },
    { route: '/messages', status: 400, n: 1 },
  ]);
});

test('SIGTERM under load loses no acknowledged request: every 201 is in the file, with its audit row, and nothing extra', async () => {
  const path = tempDb();
  const server = await spawnGateway({ DB: path });
  const { url } = server;
  const sent = new Set<string>();
  const acked: string[] = [];
  let stop = false;
  const loops = Array.from({ length: 32 }, async (_, w) => {
    for (let i = 0; !stop; i++) {
      const content = `w${w}-${i}`;
      sent.add(content);
      try {
        const r = await fetch(`${url}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionId: `w${w}`, role: 'user', content }) });
        if (r.status === 201) acked.push(content);
        else await r.arrayBuffer();
      } catch {
        return; // the server has gone: this loop is done
      }
    }
  });
  // SIGTERM once the load is well under way: wait for acknowledgements, not for a fixed time (on a
  // busy 2-core machine 800 ms once saw only 28).
  for (const until = Date.now() + 20_000; acked.length <= 50 && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 50));
  const ackedAtSignal = acked.length;
  const exited = server.stop();
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  stop = true;
  await Promise.all(loops);
  expect(await exited).toBe(0);
  expect(ackedAtSignal).toBeGreaterThan(50);
  const db = new Database(path, { readonly: true });
  const stored = new Set((db.prepare('SELECT content FROM messages').pluck().all() as string[]));
  const audited = db.prepare("SELECT count(*) FROM audit WHERE route = '/messages' AND status = 201").pluck().get() as number;
  db.close();
  expect(acked.filter((c) => !stored.has(c))).toEqual([]); // nothing acknowledged is lost
  expect([...stored].filter((c) => !sent.has(c))).toEqual([]); // nothing extra
  // Every acknowledged request has its audit row (written after the reply, committed by the drain).
  // A request whose client went away before the reply may have its message without an audit row.
  expect(audited).toBeGreaterThanOrEqual(acked.length);
  expect(audited).toBeLessThanOrEqual(stored.size);
}, 60_000);
