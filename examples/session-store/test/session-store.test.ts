// What the port adds or must hold beyond the original's own tests (those are in hermes-state.test.ts):
// typed errors that leave the store usable, procedures that are atomic, group commit, vacuum off
// the caller's thread.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { ProcedureError } from '@litescribe/core';
import { SessionStore, TitleTooLongError } from '@litescribe/example-session-store';

let dir: string;
let store: SessionStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'session-store-'));
  store = await SessionStore.open(join(dir, 'state.db'));
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('bad input is a typed error naming what was wrong, and the store stays usable', async () => {
  await store.createSession({ id: 's', source: 'cli' });
  const negative = store.updateTokenCounts('s', { inputTokens: -1 });
  await expect(negative).rejects.toBeInstanceOf(ProcedureError);
  await expect(negative).rejects.toThrow(/inputTokens must be a whole number >= 0, got -1/);
  await expect(store.setSessionTitle('s', 'x'.repeat(101))).rejects.toBeInstanceOf(TitleTooLongError);
  await expect(store.appendMessage('ghost', { role: 'user', content: 'x' })).rejects.toThrow(/no session "ghost"/);
  await expect(store.appendMessage('s', { role: 'assistant', toolCalls: 'not a list' as never })).rejects.toThrow(/toolCalls must be an array/);
  await store.updateTokenCounts('s', { inputTokens: 5 });
  expect(await store.getSession('s')).toMatchObject({ inputTokens: 5, messageCount: 0 });
});

test('a title taken by another session is rejected inside the transaction; the other fields of that call are not half-applied', async () => {
  await store.createSession({ id: 's1', source: 'cli' });
  await store.createSession({ id: 's2', source: 'cli' });
  await store.setSessionTitle('s1', 'Fix the tests');
  const taken = store.setSessionTitle('s2', '  Fix   the tests ');
  await expect(taken).rejects.toBeInstanceOf(ProcedureError);
  await expect(taken).rejects.toThrow(/already in use by session s1/);
  expect(await store.getSessionTitle('s2')).toBeNull();
});

test('clearMessages resets the counters and empties the search index; setTokenCounts sets exact values', async () => {
  await store.createSession({ id: 's', source: 'cli' });
  await store.appendMessage('s', { role: 'assistant', content: 'integration suite', toolCalls: [{ id: 'c' }] });
  await store.appendMessage('s', { role: 'user', content: 'integration again' });
  await store.updateTokenCounts('s', { inputTokens: 7, cacheReadTokens: 3 });
  await expect(store.clearMessages('s')).resolves.toBe(2);
  expect(await store.getSession('s')).toMatchObject({ messageCount: 0, toolCallCount: 0 });
  await expect(store.searchMessages('integration')).resolves.toEqual([]);
  await store.setTokenCounts('s', { inputTokens: 100 });
  expect(await store.getSession('s')).toMatchObject({ inputTokens: 100, cacheReadTokens: 3 });
});

test('many appends issued at once share transactions and every counter is exact', async () => {
  await store.createSession({ id: 's', source: 'cli' });
  const before = store.queue.stats().transactions;
  await Promise.all(Array.from({ length: 500 }, (_, i) => store.appendMessage('s', { role: i % 2 === 0 ? 'user' : 'assistant', content: `m${i}`, toolCalls: i % 10 === 0 ? [{ id: `c${i}` }] : null })));
  expect(store.queue.stats().transactions - before).toBeLessThan(100);
  expect(await store.getSession('s')).toMatchObject({ messageCount: 500, toolCallCount: 50 });
  expect((await store.getMessages('s')).map((m) => m.content)).toEqual(Array.from({ length: 500 }, (_, i) => `m${i}`));
});

test('vacuum runs on a thread of its own: the caller keeps its event loop while the file is rebuilt, and writes queued meanwhile commit', async () => {
  await store.createSession({ id: 's', source: 'cli' });
  const body = 'x'.repeat(2_000);
  await Promise.all(Array.from({ length: 3_000 }, (_, i) => store.appendMessage('s', { role: 'user', content: `${body}${i}` })));
  await store.clearMessages('s');
  const size = () => store.queue.get<{ pages: number; free: number }>('SELECT (SELECT page_count FROM pragma_page_count()) AS pages, (SELECT freelist_count FROM pragma_freelist_count()) AS free');
  const before = (await size())!;
  expect(before.free).toBeGreaterThan(100); // the cleared messages' pages
  let ticks = 0;
  const ticker = setInterval(() => (ticks += 1), 5);
  const vacuuming = store.vacuum();
  const during = store.appendMessage('s', { role: 'user', content: 'written while vacuuming' });
  await vacuuming;
  clearInterval(ticker);
  await expect(during).resolves.toBeGreaterThan(0);
  expect(ticks).toBeGreaterThan(0); // timers ran during the VACUUM
  expect((await store.getMessages('s')).map((m) => m.content)).toEqual(['written while vacuuming']);
  // The free pages are gone from the file. (FTS5 keeps deleted entries in its segments until they
  // merge, so the file does not shrink by the whole 6 MB; the original's VACUUM does the same.)
  const after = (await size())!;
  expect(after.free).toBe(0);
  expect(after.pages).toBeLessThan(before.pages - 100);
});

test('CJK search pages consistently: the pages joined are the full list, for LIKE-only and trigram-plus-LIKE queries', async () => {
  await store.createSession({ id: 's', source: 'cli' });
  // Five messages the trigram index finds (3+ characters) and five only LIKE finds ("记忆" is 2).
  for (let i = 0; i < 5; i++) await store.appendMessage('s', { role: 'user', content: `第${i}条：记忆断裂问题` });
  for (let i = 0; i < 5; i++) await store.appendMessage('s', { role: 'user', content: `第${i}条：记忆很好` });
  const all = await store.searchMessages('记忆', { limit: 50 });
  expect(all).toHaveLength(10);
  const paged: number[] = [];
  for (let offset = 0; offset < 10; offset += 3) paged.push(...(await store.searchMessages('记忆', { limit: 3, offset })).map((h) => h.id));
  expect(paged).toEqual(all.map((h) => h.id));
  const phrase = await store.searchMessages('记忆断裂', { limit: 50 });
  const phrasePaged: number[] = [];
  for (let offset = 0; offset < 5; offset += 2) phrasePaged.push(...(await store.searchMessages('记忆断裂', { limit: 2, offset })).map((h) => h.id));
  expect(phrasePaged).toEqual(phrase.map((h) => h.id));
  expect(phrase).toHaveLength(5);
});
