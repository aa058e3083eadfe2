import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import type { Child } from './helpers.js';
import { countRows, openTestQueue, reader, spawnFixture, tempDir, until } from './helpers.js';

const INSERT = 'INSERT INTO messages(session_id, seq, content) VALUES (?, ?, ?)';

/** The child's last reported role. */
const roleOf = (c: Child): string | undefined => c.lines.filter((l) => l.startsWith('role ')).at(-1)?.slice(5);
const acks = (c: Child): number[] => c.lines.filter((l) => l.startsWith('ack ')).map((l) => Number(l.split(' ')[1]));

test('kill -9 of the leader under load, three rounds: every acknowledged write is in the file and the followers carry on under a new leader', async () => {
  const path = join(tempDir(), 'failover.db');
  const all: Array<{ name: string; child: Child }> = [];
  const start = (name: string): Child => {
    const child = spawnFixture('shared-writer.mjs', [path, name, '1000000']);
    all.push({ name, child });
    return child;
  };
  await start('p0').waitForLine(/^role leader$/);
  await Promise.all(['p1', 'p2', 'p3'].map((n) => start(n).waitForLine(/^ready$/)));
  for (let round = 0; round < 3; round++) {
    const alive = all.filter((p) => p.child.proc.exitCode === null && p.child.proc.signalCode === null);
    await until(() => alive.filter((p) => roleOf(p.child) === 'leader').length === 1, 'one leader');
    const leader = alive.find((p) => roleOf(p.child) === 'leader')!;
    const followers = alive.filter((p) => p !== leader);
    const before = followers.map((p) => acks(p.child).length);
    await until(() => followers.every((p, i) => acks(p.child).length > before[i]! + 20), 'load through the leader');
    leader.child.proc.kill('SIGKILL');
    await leader.child.exited;
    const atKill = followers.map((p) => acks(p.child).length);
    // Every follower gets writes acknowledged again, through a new leader among them.
    await until(() => followers.every((p, i) => acks(p.child).length > atKill[i]! + 20), 'writes after the kill');
    expect(followers.filter((p) => roleOf(p.child) === 'leader')).toHaveLength(1);
    await start(`p${4 + round}`).waitForLine(/^ready$/);
  }
  const survivors = all.filter((p) => p.child.proc.exitCode === null && p.child.proc.signalCode === null);
  for (const p of survivors) p.child.proc.kill('SIGTERM');
  const codes = await Promise.all(survivors.map((p) => p.child.exited));
  expect(codes).toEqual(survivors.map(() => 0));
  // A process that saw every kill looked for a new leader each time (and maybe once more at the
  // end, when the last leader closed before it).
  for (const p of survivors.filter((s) => s.name === 'p3')) {
    expect(Number(p.child.lines.find((l) => l.startsWith('done '))?.split(' ')[2])).toBeGreaterThanOrEqual(3);
  }

  const db = reader(path);
  expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  const present = new Set(db.prepare('SELECT content FROM messages').pluck().all() as string[]);
  let acknowledged = 0;
  let inDoubt = 0;
  for (const { name, child } of all) {
    for (const i of acks(child)) {
      acknowledged += 1;
      expect(present.has(`${name}-${i}`)).toBe(true);
    }
    inDoubt += child.lines.filter((l) => l.startsWith('doubt ')).length;
  }
  // In-doubt writes were not resent: the file holds at most those on top of the acknowledged ones.
  expect(present.size).toBeGreaterThanOrEqual(acknowledged);
  expect(present.size).toBeLessThanOrEqual(acknowledged + inDoubt + 3); // + the killed leaders' own unprinted acks
});

test("a leader's close() hands over: its followers see no error and one of them leads", async () => {
  const { q: leader, path } = await openTestQueue();
  const followers = ['f1', 'f2', 'f3'].map((n) => spawnFixture('shared-writer.mjs', [path, n, '1000000']));
  await Promise.all(followers.map((c) => c.waitForLine(/^role follower$/)));
  await until(() => followers.every((c) => acks(c).length > 50), 'followers writing');
  await Promise.all(Array.from({ length: 50 }, (_, i) => leader.run(INSERT, ['leader', i, `leader-${i}`])));
  await leader.close();
  const atClose = followers.map((c) => acks(c).length);
  await until(() => followers.every((c, i) => acks(c).length > atClose[i]! + 50), 'writes after the handover');
  expect(followers.filter((c) => roleOf(c) === 'leader')).toHaveLength(1);
  for (const c of followers) c.proc.kill('SIGTERM');
  expect(await Promise.all(followers.map((c) => c.exited))).toEqual([0, 0, 0]);
  for (const c of followers) expect(c.lines.filter((l) => l.startsWith('doubt ') || l.startsWith('error '))).toEqual([]);
  const acked = followers.reduce((n, c) => n + acks(c).length, 0);
  expect(countRows(path)).toBe(acked + 50);
});

test('a leader killed with SIGKILL leaves nothing that blocks the next open; its token stops working', async () => {
  const path = join(tempDir(), 'stale.db');
  const child = spawnFixture('shared-writer.mjs', [path, 'gone', '1000000']);
  await child.waitForLine(/^role leader$/);
  const oldToken = readFileSync(`${path}-litescribe-token`);
  child.proc.kill('SIGKILL');
  await child.exited;
  const started = performance.now();
  const { q } = await openTestQueue({ path });
  expect(performance.now() - started).toBeLessThan(5_000);
  expect(q.stats().role).toBe('leader');
  await q.run(INSERT, ['next', 0, 'next-0']);
  expect(readFileSync(`${path}-litescribe-token`).equals(oldToken)).toBe(false);
  expect(countRows(path, "session_id = 'next'")).toBe(1);
});

test("the leader's writer thread dying: a follower's in-flight writes reject as outcome-unknown, later ones go to a new leader", async () => {
  const { q: leader, path } = await openTestQueue();
  const follower = spawnFixture('shared-writer.mjs', [path, 'f', '1000000']);
  await follower.waitForLine(/^role follower$/);
  await until(() => acks(follower).length > 20, 'follower writing');
  await expect(leader.call('exitThread', { content: 'crash-row' })).rejects.toMatchObject({ code: 'ERR_WORKER_EXITED' });
  const atCrash = acks(follower).length;
  await until(() => acks(follower).length > atCrash + 20, 'follower writing after the crash');
  // This process looks for a leader again on its next write: it may lead or follow.
  await leader.run(INSERT, ['leader', 0, 'after-crash']);
  follower.proc.kill('SIGTERM');
  expect(await follower.exited).toBe(0);
  expect(follower.lines.filter((l) => l.startsWith('error '))).toEqual([]);
  const present = new Set(reader(path).prepare("SELECT content FROM messages WHERE session_id = 'f'").pluck().all() as string[]);
  for (const i of acks(follower)) expect(present.has(`f-${i}`)).toBe(true);
  expect(countRows(path, "content = 'crash-row'")).toBe(0);
});

test('a leader whose process runs out of work without close() still hands over: its followers see no outcome-unknown error', async () => {
  for (let round = 0; round < 3; round++) {
    const path = join(tempDir(), `exits-${round}.db`);
    const leader = spawnFixture('leader-exits.mjs', [path]);
    await leader.waitForLine(/^waiting$/);
    expect(leader.lines).toContain('role leader');
    const follower = spawnFixture('shared-writer.mjs', [path, 'f', '1000000']);
    await follower.waitForLine(/^role follower$/);
    leader.proc.kill('SIGUSR2');
    expect(await leader.exited).toBe(0);
    expect(leader.lines).toContain('leaving');
    const atExit = acks(follower).length;
    await until(() => roleOf(follower) === 'leader' && acks(follower).length > atExit + 20, 'the follower leading and writing');
    follower.proc.kill('SIGTERM');
    expect(await follower.exited).toBe(0);
    expect(follower.lines.filter((l) => l.startsWith('doubt ') || l.startsWith('error '))).toEqual([]);
    expect(countRows(path)).toBe(20 + acks(follower).length);
  }
});
