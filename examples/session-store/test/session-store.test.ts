import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { ProcedureError } from '@litescribe/core';
import { SessionStore } from '@litescribe/example-session-store';

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

test('create is insert-or-ignore; ensure creates only what is missing; get returns the stored fields', async () => {
  await expect(store.createSession({ id: 's1', source: 'cli', userId: 'u1', model: 'm1', modelConfig: { temperature: 0.2 }, systemPrompt: 'be brief' })).resolves.toBe(true);
  await expect(store.createSession({ id: 's1', source: 'gateway', model: 'other' })).resolves.toBe(false);
  await expect(store.ensureSession('s1', 'gateway')).resolves.toBe(false);
  await expect(store.ensureSession('s2', 'gateway')).resolves.toBe(true);
  const s1 = await store.getSession('s1');
  expect(s1).toMatchObject({ id: 's1', source: 'cli', userId: 'u1', model: 'm1', modelConfig: { temperature: 0.2 }, systemPrompt: 'be brief', endedAt: null, messageCount: 0 });
  expect(s1!.startedAt).toBeGreaterThan(Date.now() / 1000 - 60);
  expect((await store.getSession('s2'))?.source).toBe('gateway');
  await expect(store.getSession('nope')).resolves.toBeUndefined();
});

test('end, reopen and system prompt updates', async () => {
  await store.createSession({ id: 's', source: 'cli' });
  await store.endSession('s', 'user_exit');
  expect(await store.getSession('s')).toMatchObject({ endReason: 'user_exit', endedAt: expect.any(Number) });
  await store.reopenSession('s');
  expect(await store.getSession('s')).toMatchObject({ endReason: null, endedAt: null });
  await store.updateSystemPrompt('s', 'new prompt');
  expect((await store.getSession('s'))?.systemPrompt).toBe('new prompt');
  await expect(store.endSession('missing', 'x')).rejects.toThrow(/no session "missing"/);
});

test('token counts increment, set absolutely, and backfill a missing model without overwriting one', async () => {
  await store.createSession({ id: 'a', source: 'cli' });
  await store.createSession({ id: 'b', source: 'cli', model: 'kept' });
  await store.updateTokenCounts('a', { inputTokens: 10, outputTokens: 5, apiCallCount: 1, model: 'filled' });
  await store.updateTokenCounts('a', { inputTokens: 7, cacheReadTokens: 3, apiCallCount: 1, model: 'ignored' });
  await store.updateTokenCounts('b', { model: 'not-this' });
  expect(await store.getSession('a')).toMatchObject({ inputTokens: 17, outputTokens: 5, cacheReadTokens: 3, cacheWriteTokens: 0, apiCallCount: 2, model: 'filled' });
  expect((await store.getSession('b'))?.model).toBe('kept');
  await store.setTokenCounts('a', { inputTokens: 100, outputTokens: 0 });
  expect(await store.getSession('a')).toMatchObject({ inputTokens: 100, outputTokens: 0, cacheReadTokens: 3, apiCallCount: 2 });
  await expect(store.updateTokenCounts('a', { inputTokens: -1 })).rejects.toBeInstanceOf(ProcedureError);
});

test('titles are trimmed, empty clears, and a taken title is an error naming the other session', async () => {
  await store.createSession({ id: 's1', source: 'cli' });
  await store.createSession({ id: 's2', source: 'cli' });
  await expect(store.setTitle('s1', '  Fix the tests  ')).resolves.toBe('Fix the tests');
  await expect(store.getTitle('s1')).resolves.toBe('Fix the tests');
  const taken = store.setTitle('s2', 'Fix the tests');
  await expect(taken).rejects.toBeInstanceOf(ProcedureError);
  await expect(taken).rejects.toThrow(/already used by session s1/);
  await expect(store.setTitle('s1', '   ')).resolves.toBeNull();
  await expect(store.getTitle('s1')).resolves.toBeNull();
  // Cleared titles do not collide: several sessions may have none.
  await expect(store.setTitle('s2', '')).resolves.toBeNull();
  await expect(store.setTitle('s2', 'Fix the tests')).resolves.toBe('Fix the tests');
});

test('append counts messages and tool calls (a tool reply is not a call); messages come back in order with tool_calls as JSON', async () => {
  await store.createSession({ id: 's', source: 'cli' });
  const calls = [{ id: 'c1', type: 'function', function: { name: 'read', arguments: '{"path":"a"}' } }, { id: 'c2', type: 'function', function: { name: 'ls', arguments: '{}' } }];
  const ids = [
    await store.appendMessage('s', { role: 'user', content: 'list the files' }),
    await store.appendMessage('s', { role: 'assistant', content: null, toolCalls: calls, finishReason: 'tool_calls', tokenCount: 12 }),
    await store.appendMessage('s', { role: 'tool', content: 'a.txt', toolCallId: 'c1', toolName: 'read' }),
    await store.appendMessage('s', { role: 'tool', content: 'b.txt', toolCallId: 'c2', toolName: 'ls' }),
    await store.appendMessage('s', { role: 'assistant', content: 'two files', reasoning: 'counted them' }),
  ];
  expect(ids).toEqual([...ids].sort((a, b) => a - b));
  expect(await store.getSession('s')).toMatchObject({ messageCount: 5, toolCallCount: 2 });
  const messages = await store.getMessages('s');
  expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'tool', 'assistant']);
  expect(messages[1]).toMatchObject({ toolCalls: calls, finishReason: 'tool_calls', tokenCount: 12, content: null });
  expect(messages[2]).toMatchObject({ toolCallId: 'c1', toolName: 'read', toolCalls: null });
  expect(messages[4]).toMatchObject({ reasoning: 'counted them' });
  await expect(store.appendMessage('ghost', { role: 'user', content: 'x' })).rejects.toThrow(/no session "ghost"/);
});

test('clear resets counters; delete reports whether the session existed', async () => {
  await store.createSession({ id: 's', source: 'cli' });
  await store.appendMessage('s', { role: 'assistant', content: 'x', toolCalls: [{ id: 'c' }] });
  await store.appendMessage('s', { role: 'user', content: 'y' });
  await expect(store.clearMessages('s')).resolves.toBe(2);
  expect(await store.getSession('s')).toMatchObject({ messageCount: 0, toolCallCount: 0 });
  await expect(store.getMessages('s')).resolves.toEqual([]);
  await store.appendMessage('s', { role: 'user', content: 'again' });
  await expect(store.deleteSession('s')).resolves.toBe(true);
  await expect(store.deleteSession('s')).resolves.toBe(false);
  await expect(store.queue.get('SELECT count(*) AS n FROM messages')).resolves.toEqual({ n: 0 });
});

test('prune removes ended sessions older than N days, optionally by source, with their messages', async () => {
  const day = 86_400;
  const t = Date.now() / 1000;
  for (const [id, source, endedDaysAgo] of [['old-cli', 'cli', 40], ['old-gw', 'gateway', 40], ['new-cli', 'cli', 1], ['open', 'cli', null]] as const) {
    await store.createSession({ id, source });
    await store.appendMessage(id, { role: 'user', content: `hello from ${id}` });
    if (endedDaysAgo !== null) await store.queue.run('UPDATE sessions SET ended_at = ? WHERE id = ?', [t - endedDaysAgo * day, id]);
  }
  await expect(store.pruneSessions(30, 'cli')).resolves.toBe(1);
  expect(await store.getSession('old-cli')).toBeUndefined();
  expect(await store.getSession('old-gw')).toBeDefined();
  await expect(store.pruneSessions(30)).resolves.toBe(1);
  const left = await store.queue.all<{ id: string }>('SELECT id FROM sessions ORDER BY id');
  expect(left.map((r) => r.id)).toEqual(['new-cli', 'open']);
  await expect(store.queue.all('SELECT session_id FROM messages ORDER BY session_id')).resolves.toEqual([{ session_id: 'new-cli' }, { session_id: 'open' }]);
});

test('full-text search over message content, best first, optionally within one session', async () => {
  await store.createSession({ id: 'a', source: 'cli' });
  await store.createSession({ id: 'b', source: 'cli' });
  await store.appendMessage('a', { role: 'user', content: 'the flaky integration test fails on CI' });
  await store.appendMessage('a', { role: 'assistant', content: 'I will rerun the integration suite' });
  await store.appendMessage('b', { role: 'user', content: 'refactor the parser' });
  await store.appendMessage('b', { role: 'user', content: 'integration of the parser into the build' });
  const hits = await store.searchMessages('integration');
  expect(hits).toHaveLength(3);
  expect(hits[0]!.snippet).toContain('[integration]');
  const inB = await store.searchMessages('parser', { sessionId: 'b' });
  expect(inB.map((h) => h.sessionId)).toEqual(['b', 'b']);
  await expect(store.searchMessages('nothing-like-this')).resolves.toEqual([]);
  // User text with FTS5 operator characters is searched as words, not parsed as a query.
  await expect(store.searchMessages('integration: "test')).resolves.toHaveLength(1);
  await expect(store.searchMessages('flaky test')).resolves.toHaveLength(1);
  await expect(store.searchMessages('parser OR flaky', { raw: true })).resolves.toHaveLength(3);
  // Deleted messages leave the index too.
  await store.clearMessages('a');
  expect((await store.searchMessages('integration')).map((h) => h.sessionId)).toEqual(['b']);
});
