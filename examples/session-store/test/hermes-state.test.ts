// hermes-agent's tests/test_hermes_state.py, ported: one vitest test per original test, under the
// original's class and test names, against SessionStore on real files through a real queue.
// `db._conn.execute(...)` in the original (backdating a row) is `store.queue.run(...)` here.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  SCHEMA_VERSION,
  SessionStore,
  TABLES_SQL,
  TitleTooLongError,
  containsCjk,
  parseSchemaColumns,
  sanitizeFts5Query,
  sanitizeTitle,
} from '@litescribe/example-session-store';

let dir: string;
let db: SessionStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hermes-state-'));
  db = await SessionStore.open(join(dir, 'test_state.db'));
});
afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

const nowS = (): number => Date.now() / 1000;
const setStarted = (id: string, at: number) => db.queue.run('UPDATE sessions SET started_at = ? WHERE id = ?', [at, id]);
const createSession = (id: string, source: string, extra: { model?: string; parentSessionId?: string } = {}) => db.createSession({ id, source, ...extra });
const append = (sessionId: string, role: string, content: string | null, extra: Record<string, unknown> = {}) => db.appendMessage(sessionId, { role, content, ...extra });
/** A read-only look at the file, as the original's tests look at `db._conn`. */
function peek<T>(sql: string): T {
  const conn = new Database(join(dir, 'test_state.db'), { readonly: true });
  try {
    return conn.prepare(sql).all() as T;
  } finally {
    conn.close();
  }
}

describe('TestSessionLifecycle', () => {
  test('test_create_and_get_session', async () => {
    expect(await createSession('s1', 'cli', { model: 'test-model' })).toBe('s1');
    expect(await db.getSession('s1')).toMatchObject({ source: 'cli', model: 'test-model', endedAt: null });
  });
  test('test_get_nonexistent_session', async () => {
    expect(await db.getSession('nonexistent')).toBeNull();
  });
  test('test_end_session', async () => {
    await createSession('s1', 'cli');
    await db.endSession('s1', 'user_exit');
    const s = await db.getSession('s1');
    expect(typeof s!.endedAt).toBe('number');
    expect(s!.endReason).toBe('user_exit');
  });
  test('test_end_session_preserves_original_end_reason', async () => {
    await createSession('s1', 'cli');
    await db.endSession('s1', 'compression');
    const first = (await db.getSession('s1'))!.endedAt;
    await sleep(10);
    await db.endSession('s1', 'resumed_other');
    expect(await db.getSession('s1')).toMatchObject({ endReason: 'compression', endedAt: first });
  });
  test('test_end_session_after_reopen_allows_re_end', async () => {
    await createSession('s1', 'cli');
    await db.endSession('s1', 'compression');
    await db.reopenSession('s1');
    await db.endSession('s1', 'user_exit');
    expect((await db.getSession('s1'))!.endReason).toBe('user_exit');
  });
  test('test_update_system_prompt', async () => {
    await createSession('s1', 'cli');
    await db.updateSystemPrompt('s1', 'You are a helpful assistant.');
    expect((await db.getSession('s1'))!.systemPrompt).toBe('You are a helpful assistant.');
  });
  test('test_update_token_counts', async () => {
    await createSession('s1', 'cli');
    await db.updateTokenCounts('s1', { inputTokens: 200, outputTokens: 100 });
    await db.updateTokenCounts('s1', { inputTokens: 100, outputTokens: 50 });
    expect(await db.getSession('s1')).toMatchObject({ inputTokens: 300, outputTokens: 150 });
  });
  test('test_update_token_counts_tracks_api_call_count', async () => {
    await createSession('s1', 'cli');
    for (let i = 0; i < 3; i++) await db.updateTokenCounts('s1', { inputTokens: 100, outputTokens: 50, apiCallCount: 1 });
    expect((await db.getSession('s1'))!.apiCallCount).toBe(3);
  });
  test('test_update_token_counts_api_call_count_absolute', async () => {
    await createSession('s1', 'cli');
    await db.updateTokenCounts('s1', { inputTokens: 100, outputTokens: 50, apiCallCount: 1 });
    await db.updateTokenCounts('s1', { inputTokens: 300, outputTokens: 150, apiCallCount: 5 }, { absolute: true });
    expect(await db.getSession('s1')).toMatchObject({ apiCallCount: 5, inputTokens: 300 });
  });
  test('test_update_token_counts_backfills_model_when_null', async () => {
    await createSession('s1', 'telegram');
    await db.updateTokenCounts('s1', { inputTokens: 10, outputTokens: 5, model: 'openai/gpt-5.4' });
    expect((await db.getSession('s1'))!.model).toBe('openai/gpt-5.4');
  });
  test('test_update_token_counts_preserves_existing_model', async () => {
    await createSession('s1', 'cli', { model: 'anthropic/claude-opus-4.6' });
    await db.updateTokenCounts('s1', { inputTokens: 10, outputTokens: 5, model: 'openai/gpt-5.4' });
    expect((await db.getSession('s1'))!.model).toBe('anthropic/claude-opus-4.6');
  });
  test('test_parent_session', async () => {
    await createSession('parent', 'cli');
    await createSession('child', 'cli', { parentSessionId: 'parent' });
    expect((await db.getSession('child'))!.parentSessionId).toBe('parent');
  });
});

describe('TestMessageStorage', () => {
  test('test_append_and_get_messages', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', 'Hello');
    await append('s1', 'assistant', 'Hi there!');
    const messages = await db.getMessages('s1');
    expect(messages.map((m) => [m.role, m.content])).toEqual([['user', 'Hello'], ['assistant', 'Hi there!']]);
  });
  test('test_message_increments_session_count', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', 'Hello');
    await append('s1', 'assistant', 'Hi');
    expect((await db.getSession('s1'))!.messageCount).toBe(2);
  });
  test('test_tool_response_does_not_increment_tool_count', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'tool', 'result', { toolName: 'web_search' });
    expect((await db.getSession('s1'))!.toolCallCount).toBe(0);
  });
  test('test_assistant_tool_calls_increment_by_count', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'assistant', '', { toolCalls: [{ id: 'call_1', function: { name: 'web_search', arguments: '{}' } }] });
    expect((await db.getSession('s1'))!.toolCallCount).toBe(1);
  });
  test('test_tool_call_count_matches_actual_calls', async () => {
    await createSession('s1', 'cli');
    const calls = [
      { id: 'call_1', function: { name: 'ha_call_service', arguments: '{}' } },
      { id: 'call_2', function: { name: 'ha_call_service', arguments: '{}' } },
    ];
    await append('s1', 'assistant', '', { toolCalls: calls });
    await append('s1', 'tool', 'ok', { toolName: 'ha_call_service' });
    await append('s1', 'tool', 'ok', { toolName: 'ha_call_service' });
    expect((await db.getSession('s1'))!.toolCallCount).toBe(2);
  });
  test('test_tool_calls_serialization', async () => {
    await createSession('s1', 'cli');
    const calls = [{ id: 'call_1', function: { name: 'web_search', arguments: '{}' } }];
    await append('s1', 'assistant', null, { toolCalls: calls });
    expect((await db.getMessages('s1'))[0]!.toolCalls).toEqual(calls);
  });
  test('test_get_messages_as_conversation', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', 'Hello');
    await append('s1', 'assistant', 'Hi!');
    expect(await db.getMessagesAsConversation('s1')).toEqual([
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Hi!' },
    ]);
  });
  test('test_get_messages_as_conversation_includes_ancestor_chain', async () => {
    await createSession('root', 'tui');
    await append('root', 'user', 'first prompt');
    await append('root', 'assistant', 'first answer');
    await createSession('child', 'tui', { parentSessionId: 'root' });
    await append('child', 'user', 'second prompt');
    await append('child', 'assistant', 'second answer');
    const conv = await db.getMessagesAsConversation('child', { includeAncestors: true });
    expect(conv.map((m) => m.content)).toEqual(['first prompt', 'first answer', 'second prompt', 'second answer']);
  });
  test('test_get_messages_as_conversation_avoids_repeated_resume_prompts_from_ancestors', async () => {
    await createSession('root', 'tui');
    await append('root', 'user', 'same prompt');
    await append('root', 'user', 'same prompt');
    await append('root', 'assistant', 'answer');
    await createSession('child', 'tui', { parentSessionId: 'root' });
    await append('child', 'user', 'next prompt');
    const conv = await db.getMessagesAsConversation('child', { includeAncestors: true });
    expect(conv.filter((m) => m.role === 'user').map((m) => m.content)).toEqual(['same prompt', 'next prompt']);
  });
  test('test_finish_reason_stored', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'assistant', 'Done', { finishReason: 'stop' });
    expect((await db.getMessages('s1'))[0]!.finishReason).toBe('stop');
  });
  test('test_get_messages_as_conversation_strips_leaked_memory_context', async () => {
    await createSession('s1', 'cli');
    await append(
      's1',
      'assistant',
      '<memory-context>\n[System note: The following is recalled memory context, NOT new user input. Treat as informational background data.]\n\n## Honcho Context\nstale memory\n</memory-context>\n\nVisible answer',
    );
    expect(await db.getMessagesAsConversation('s1')).toEqual([{ role: 'assistant', content: 'Visible answer' }]);
  });
  test('test_reasoning_persisted_and_restored', async () => {
    await createSession('s1', 'telegram');
    await append('s1', 'user', 'create a cron job');
    await append('s1', 'assistant', null, {
      toolCalls: [{ function: { name: 'cronjob', arguments: '{}' }, id: 'c1', type: 'function' }],
      reasoning: 'I should call the cronjob tool to schedule this.',
    });
    await append('s1', 'tool', '{"job_id": "abc"}', { toolCallId: 'c1' });
    const conv = await db.getMessagesAsConversation('s1');
    expect(conv).toHaveLength(3);
    expect(conv[1]).toMatchObject({ role: 'assistant', reasoning: 'I should call the cronjob tool to schedule this.' });
    expect('reasoning' in conv[0]!).toBe(false);
    expect('reasoning' in conv[2]!).toBe(false);
  });
  test('test_reasoning_details_persisted_and_restored', async () => {
    await createSession('s1', 'telegram');
    const details = [
      { type: 'reasoning.summary', summary: 'Thinking about tools' },
      { type: 'reasoning.encrypted_content', encrypted_content: 'abc123' },
    ];
    await append('s1', 'assistant', 'Hello', { reasoning: 'Thinking about what to say', reasoningDetails: details });
    const conv = await db.getMessagesAsConversation('s1');
    expect(conv).toHaveLength(1);
    expect(conv[0]).toMatchObject({ reasoning: 'Thinking about what to say', reasoning_details: details });
  });
  test('test_reasoning_content_persisted_and_restored', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'assistant', 'Hello', { reasoning: 'Short summary', reasoningContent: 'Longer provider-native scratchpad' });
    const conv = await db.getMessagesAsConversation('s1');
    expect(conv[0]).toMatchObject({ reasoning: 'Short summary', reasoning_content: 'Longer provider-native scratchpad' });
  });
  test('test_reasoning_content_empty_string_restored_for_assistant', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'assistant', '', { toolCalls: [{ id: 'c1', type: 'function', function: { name: 'date', arguments: '{}' } }], reasoningContent: '' });
    const conv = await db.getMessagesAsConversation('s1');
    expect(conv).toHaveLength(1);
    expect(conv[0]!.reasoning_content).toBe('');
  });
  test('test_codex_message_items_persisted_and_restored', async () => {
    await createSession('s1', 'cli');
    const items = [
      { type: 'message', role: 'assistant', status: 'completed', id: 'msg_123', phase: 'commentary', content: [{ type: 'output_text', text: 'Thinking...' }] },
      { type: 'message', role: 'assistant', status: 'completed', id: 'msg_456', phase: 'final_answer', content: [{ type: 'output_text', text: 'Done!' }] },
    ];
    await append('s1', 'assistant', 'Done!', { codexMessageItems: items });
    const conv = await db.getMessagesAsConversation('s1');
    expect(conv).toHaveLength(1);
    expect(conv[0]!.codex_message_items).toEqual(items);
  });
  test('test_reasoning_not_set_for_non_assistant', async () => {
    await createSession('s1', 'telegram');
    await append('s1', 'user', 'hi');
    await append('s1', 'assistant', 'hello', { reasoning: null });
    const conv = await db.getMessagesAsConversation('s1');
    expect('reasoning' in conv[0]!).toBe(false);
    expect('reasoning' in conv[1]!).toBe(false);
  });
  test('test_reasoning_empty_string_not_restored', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'assistant', 'hi', { reasoning: '' });
    expect('reasoning' in (await db.getMessagesAsConversation('s1'))[0]!).toBe(false);
  });
  test('test_codex_reasoning_items_persisted_and_restored', async () => {
    await createSession('s1', 'cli');
    const items = [
      { type: 'reasoning', id: 'rs_abc', encrypted_content: 'enc_blob_123' },
      { type: 'reasoning', id: 'rs_def', encrypted_content: 'enc_blob_456' },
    ];
    await append('s1', 'assistant', 'Done', { codexReasoningItems: items });
    const conv = await db.getMessagesAsConversation('s1');
    expect(conv[0]!.codex_reasoning_items).toEqual(items);
  });
});

describe('TestFTS5Search', () => {
  test('test_search_finds_content', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', 'How do I deploy with Docker?');
    await append('s1', 'assistant', 'Use docker compose up.');
    const results = await db.searchMessages('docker');
    expect(results).toHaveLength(2);
    expect(results.some((r) => r.snippet.toLowerCase().includes('docker'))).toBe(true);
  });
  test('test_search_empty_query', async () => {
    expect(await db.searchMessages('')).toEqual([]);
    expect(await db.searchMessages('   ')).toEqual([]);
  });
  test('test_search_with_source_filter', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', 'CLI question about Python');
    await createSession('s2', 'telegram');
    await append('s2', 'user', 'Telegram question about Python');
    const results = await db.searchMessages('Python', { sourceFilter: ['telegram'] });
    expect(results.map((r) => r.source)).toEqual(['telegram']);
  });
  test('test_search_default_sources_include_acp', async () => {
    await createSession('s1', 'acp');
    await append('s1', 'user', 'ACP question about Python');
    expect((await db.searchMessages('Python')).map((r) => r.source)).toContain('acp');
  });
  test('test_search_default_includes_all_platforms', async () => {
    const sources = ['cli', 'telegram', 'signal', 'homeassistant', 'acp', 'matrix'];
    for (const src of sources) {
      await createSession(`s-${src}`, src);
      await append(`s-${src}`, 'user', `universal search test from ${src}`);
    }
    expect(new Set((await db.searchMessages('universal search test')).map((r) => r.source))).toEqual(new Set(sources));
  });
  test('test_search_with_role_filter', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', 'What is FastAPI?');
    await append('s1', 'assistant', 'FastAPI is a web framework.');
    const results = await db.searchMessages('FastAPI', { roleFilter: ['assistant'] });
    expect(results.map((r) => r.role)).toEqual(['assistant']);
  });
  test('test_search_returns_context', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', 'Tell me about Kubernetes');
    await append('s1', 'assistant', 'Kubernetes is an orchestrator.');
    const results = await db.searchMessages('Kubernetes');
    expect(results).toHaveLength(2);
    expect(results[0]!.context.length).toBeGreaterThan(0);
  });
  test('test_search_context_uses_session_neighbors_when_ids_are_interleaved', async () => {
    await createSession('s1', 'cli');
    await createSession('s2', 'cli');
    await append('s1', 'user', 'before needle');
    await append('s2', 'user', 'other session message');
    await append('s1', 'assistant', 'needle match');
    await append('s2', 'assistant', 'another other session message');
    await append('s1', 'user', 'after needle');
    const results = await db.searchMessages('"needle match"');
    const hit = results.find((r) => r.sessionId === 's1' && r.snippet.includes('needle match'))!;
    expect(hit.context.map((m) => m.content)).toEqual(['before needle', 'needle match', 'after needle']);
  });
  test('test_search_special_chars_do_not_crash', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', 'How do I use C++ templates?');
    for (const q of ['C++', '"unterminated', '(problem', 'hello AND', '***', '{test}', 'OR hello', 'a AND OR b']) {
      expect(Array.isArray(await db.searchMessages(q)), q).toBe(true);
    }
  });
  test('test_search_sanitized_query_still_finds_content', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', 'Learning C++ templates today');
    expect(await db.searchMessages('C++')).toHaveLength(1);
  });
  test('test_search_hyphenated_term_does_not_crash', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', 'Run the chat-send command');
    const results = await db.searchMessages('chat-send');
    expect(results.length).toBeGreaterThanOrEqual(1);
    expect(results.some((r) => r.snippet.toLowerCase().includes('chat-send'))).toBe(true);
  });
  test('test_search_dotted_term_does_not_crash', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', 'Working on P2.2 session_search edge cases');
    await append('s1', 'assistant', 'See simulate.p2.test.ts for details');
    expect((await db.searchMessages('P2.2')).length).toBeGreaterThanOrEqual(1);
    expect((await db.searchMessages('simulate.p2.test.ts')).length).toBeGreaterThanOrEqual(1);
  });
  test('test_search_quoted_phrase_preserved', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', 'docker networking is complex');
    await append('s1', 'assistant', 'networking docker tips');
    const results = await db.searchMessages('"docker networking"');
    expect(results.map((r) => r.role)).toEqual(['user']); // the exact order only
  });
  test('test_sanitize_fts5_query_strips_dangerous_chars', () => {
    const s = sanitizeFts5Query;
    expect(s('hello world')).toBe('hello world');
    expect(s('C++')).not.toContain('+');
    expect(s('"unterminated')).not.toContain('"');
    expect(s('(problem')).not.toContain('(');
    expect(s('{test}')).not.toContain('{');
    expect(s('hello AND')).toBe('hello');
    expect(s('OR world')).toBe('world');
    expect(s('***')).toBe('');
    expect(s('deploy*')).toBe('deploy*');
  });
  test('test_sanitize_fts5_preserves_quoted_phrases', () => {
    const s = sanitizeFts5Query;
    expect(s('"exact phrase"')).toBe('"exact phrase"');
    expect(s('"docker networking" setup')).toContain('"docker networking"');
    const both = s('"hello world" OR "foo bar"');
    expect(both).toContain('"hello world"');
    expect(both).toContain('"foo bar"');
    expect(s('"unterminated')).not.toContain('"');
  });
  test('test_sanitize_fts5_quotes_hyphenated_terms', () => {
    const s = sanitizeFts5Query;
    expect(s('chat-send')).toBe('"chat-send"');
    expect(s('docker-compose-up')).toBe('"docker-compose-up"');
    const mixed = s('fix chat-send bug');
    expect(mixed).toContain('"chat-send"');
    expect(mixed).toContain('fix');
    expect(mixed).toContain('bug');
    const or = s('chat-send OR deploy-prod');
    expect(or).toContain('"chat-send"');
    expect(or).toContain('"deploy-prod"');
    expect(s('"chat-send"')).toBe('"chat-send"');
    expect(s('"my chat-send thing"')).toBe('"my chat-send thing"');
  });
  test('test_sanitize_fts5_quotes_dotted_terms', () => {
    const s = sanitizeFts5Query;
    expect(s('P2.2')).toBe('"P2.2"');
    expect(s('simulate.p2')).toBe('"simulate.p2"');
    expect(s('simulate.p2.test.ts')).toBe('"simulate.p2.test.ts"');
    expect(s('"P2.2"')).toBe('"P2.2"');
    const or = s('P2.2 OR simulate.p2');
    expect(or).toContain('"P2.2"');
    expect(or).toContain('"simulate.p2"');
    expect(s('my-app.config')).toBe('"my-app.config"');
    expect(s('my-app.config.ts')).toBe('"my-app.config.ts"');
  });
});

describe('TestFTS5SearchToolCallsAndToolName', () => {
  const addToolCallMessage = (sid: string, content: string, funcName: string, args: string, toolName: string) =>
    append(sid, 'assistant', content, { toolCalls: [{ id: 'c1', type: 'function', function: { name: funcName, arguments: args } }], toolName });

  test('test_search_finds_token_in_tool_call_function_name', async () => {
    await createSession('s1', 'cli');
    await addToolCallMessage('s1', '', 'FUNCNAMEMARKER_UNIQUE', '{"cmd": "noop"}', 'something_else');
    const results = await db.searchMessages('FUNCNAMEMARKER_UNIQUE');
    expect(results.map((r) => r.sessionId)).toEqual(['s1']);
  });
  test('test_search_finds_token_in_tool_call_arguments', async () => {
    await createSession('s1', 'cli');
    await addToolCallMessage('s1', 'just running a script', 'run', '{"cmd": "aws s3 cp x s3://BUCKETMARKER_TOOLCALL/"}', 'terminal');
    expect((await db.searchMessages('BUCKETMARKER_TOOLCALL')).map((r) => r.sessionId)).toEqual(['s1']);
  });
  test('test_search_finds_token_in_tool_name', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'tool', 'result body', { toolName: 'TOOLNAMEMARKER_UNIQUE' });
    expect((await db.searchMessages('TOOLNAMEMARKER_UNIQUE')).map((r) => r.sessionId)).toEqual(['s1']);
  });
  test('test_search_still_finds_content_only_match', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', 'Uploading to BUCKETMARKER_CONTENT.');
    const results = await db.searchMessages('BUCKETMARKER_CONTENT');
    expect(results).toHaveLength(1);
    expect(results[0]!.snippet).toContain('BUCKETMARKER_CONTENT');
  });
  test('test_role_filter_applies_to_tool_call_matches', async () => {
    await createSession('s1', 'cli');
    await addToolCallMessage('s1', '', 'FILTEREDFUNC', '{}', 'x');
    expect(await db.searchMessages('FILTEREDFUNC', { roleFilter: ['user'] })).toEqual([]);
    expect(await db.searchMessages('FILTEREDFUNC', { roleFilter: ['assistant'] })).toHaveLength(1);
  });
  test('test_v11_migration_backfills_existing_messages_db', async () => {
    const path = join(dir, 'legacy.db');
    const conn = new Database(path);
    conn.exec(`
      CREATE TABLE schema_version (version INTEGER NOT NULL);
      INSERT INTO schema_version VALUES (10);
      CREATE TABLE sessions (id TEXT PRIMARY KEY, source TEXT, user_id TEXT, model TEXT, model_config TEXT, system_prompt TEXT,
        parent_session_id TEXT, started_at REAL, ended_at REAL, end_reason TEXT, title TEXT, api_call_count INTEGER DEFAULT 0);
      CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL, role TEXT NOT NULL, content TEXT,
        tool_call_id TEXT, tool_calls TEXT, tool_name TEXT, timestamp REAL NOT NULL, token_count INTEGER, finish_reason TEXT,
        reasoning TEXT, reasoning_content TEXT, reasoning_details TEXT, codex_reasoning_items TEXT, codex_message_items TEXT);
      CREATE VIRTUAL TABLE messages_fts USING fts5(content, content=messages, content_rowid=id);
      CREATE VIRTUAL TABLE messages_fts_trigram USING fts5(content, content=messages, content_rowid=id, tokenize='trigram');`);
    conn.prepare('INSERT INTO sessions (id, source, started_at) VALUES (?, ?, ?)').run('s1', 'cli', nowS());
    conn
      .prepare('INSERT INTO messages (session_id, role, content, tool_calls, tool_name, timestamp) VALUES (?, ?, ?, ?, ?, ?)')
      .run('s1', 'assistant', '', '{"function": {"name": "LEGACYFUNC_MARKER", "arguments": "{}"}}', 'LEGACYTOOL_MARKER', nowS());
    conn.close();
    const legacy = await SessionStore.open(path);
    try {
      expect(await legacy.searchMessages('LEGACYFUNC_MARKER')).toHaveLength(1);
      expect(await legacy.searchMessages('LEGACYTOOL_MARKER')).toHaveLength(1);
    } finally {
      await legacy.close();
    }
  });
});

describe('TestCJKSearchFallback', () => {
  test('test_cjk_detection_covers_all_ranges', () => {
    expect(containsCjk('记忆断裂')).toBe(true);
    expect(containsCjk('こんにちは')).toBe(true);
    expect(containsCjk('カタカナ')).toBe(true);
    expect(containsCjk('안녕하세요')).toBe(true);
    expect(containsCjk('기억')).toBe(true);
    expect(containsCjk('hello world')).toBe(false);
    expect(containsCjk('日本語mixedwithenglish')).toBe(true);
    expect(containsCjk('')).toBe(false);
  });
  test('test_chinese_multichar_query_returns_results', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', '昨天和其他Agent的聊天记录，记忆断裂问题复现了');
    expect((await db.searchMessages('记忆断裂')).map((r) => r.sessionId)).toEqual(['s1']);
  });
  test('test_chinese_bigram_query', async () => {
    await createSession('s1', 'telegram');
    await append('s1', 'user', '今天讨论A2A通信协议的实现');
    expect(await db.searchMessages('通信')).toHaveLength(1);
  });
  test('test_korean_query_returns_results', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', '안녕하세요 반갑습니다');
    expect(await db.searchMessages('안녕')).toHaveLength(1);
  });
  test('test_japanese_query_returns_results', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', 'こんにちは世界');
    expect(await db.searchMessages('こんにちは')).toHaveLength(1);
    expect(await db.searchMessages('世界')).toHaveLength(1);
  });
  test('test_cjk_fallback_preserves_source_filter', async () => {
    await createSession('s1', 'cli');
    await createSession('s2', 'telegram');
    await append('s1', 'user', '记忆断裂在CLI');
    await append('s2', 'user', '记忆断裂在Telegram');
    const results = await db.searchMessages('记忆断裂', { sourceFilter: ['telegram'] });
    expect(results.map((r) => r.source)).toEqual(['telegram']);
  });
  test('test_cjk_fallback_preserves_exclude_sources', async () => {
    await createSession('s1', 'cli');
    await createSession('s2', 'tool');
    await append('s1', 'user', '记忆断裂在CLI');
    await append('s2', 'assistant', '记忆断裂在tool');
    const sources = new Set((await db.searchMessages('记忆断裂', { excludeSources: ['tool'] })).map((r) => r.source));
    expect(sources.has('tool')).toBe(false);
    expect(sources.has('cli')).toBe(true);
  });
  test('test_cjk_fallback_preserves_role_filter', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', '用户说的记忆断裂');
    await append('s1', 'assistant', '助手说的记忆断裂');
    expect((await db.searchMessages('记忆断裂', { roleFilter: ['assistant'] })).map((r) => r.role)).toEqual(['assistant']);
  });
  test('test_cjk_snippet_is_centered_on_match', async () => {
    await createSession('s1', 'cli');
    const prefix = '这是一段很长的前缀用来把匹配位置推到文档中间'.repeat(3);
    const suffix = '这是一段很长的后缀内容填充剩余空间'.repeat(3);
    await append('s1', 'user', `${prefix}记忆断裂${suffix}`);
    const results = await db.searchMessages('记忆断裂');
    expect(results).toHaveLength(1);
    expect(results[0]!.snippet).toContain('记忆断裂');
  });
  test('test_english_query_still_uses_fts5_fast_path', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', 'Deploy docker containers');
    const results = await db.searchMessages('docker');
    expect(results).toHaveLength(1);
    expect(results[0]!.snippet).toContain('>>>docker<<<'); // FTS5's highlighting, not a LIKE excerpt
  });
  test('test_cjk_query_with_no_matches_returns_empty', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', 'unrelated English content');
    expect(await db.searchMessages('记忆断裂')).toEqual([]);
  });
  test('test_mixed_cjk_english_query', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', '讨论Agent通信协议');
    expect(await db.searchMessages('Agent通信')).toHaveLength(1);
  });
  test('test_cjk_partial_fts5_results_supplemented_by_like', async () => {
    await createSession('s1', 'cli');
    await createSession('s2', 'telegram');
    await append('s1', 'user', '昨晚讨论了记忆系统');
    await append('s2', 'user', '昨晚的会议纪要已发送');
    const results = await db.searchMessages('昨晚');
    expect(new Set(results.map((r) => r.sessionId))).toEqual(new Set(['s1', 's2']));
    expect(results).toHaveLength(2);
  });
  test('test_cjk_like_dedup_no_duplicates', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', '测试去重逻辑');
    expect(await db.searchMessages('测试')).toHaveLength(1);
    expect(await db.searchMessages('测试去重')).toHaveLength(1); // both the trigram index and LIKE find it
  });
  test('test_cjk_like_escapes_wildcards', async () => {
    await createSession('s1', 'cli');
    await createSession('s2', 'cli');
    await append('s1', 'user', '达成100%完成率');
    await append('s2', 'user', '达成100完成率是目标');
    expect((await db.searchMessages('100%完成')).map((r) => r.sessionId)).toEqual(['s1']);
  });
  test('test_cjk_trigram_preserves_boolean_operators', async () => {
    await createSession('s1', 'cli');
    await createSession('s2', 'cli');
    await append('s1', 'user', '记忆系统很好用');
    await append('s2', 'user', '断裂连接需要修复');
    const results = await db.searchMessages('记忆系统 OR 断裂连接');
    expect(new Set(results.map((r) => r.sessionId))).toEqual(new Set(['s1', 's2']));
  });
  test('test_cjk_like_fallback_snippet_pulls_from_tool_name_when_content_empty', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'tool', '', { toolName: '搜' });
    const results = await db.searchMessages('搜');
    expect(results.map((r) => r.sessionId)).toEqual(['s1']);
    expect(results[0]!.snippet).toContain('搜');
  });
});

describe('TestSearchSessions', () => {
  test('test_list_all_sessions', async () => {
    await createSession('s1', 'cli');
    await createSession('s2', 'telegram');
    expect(await db.searchSessions()).toHaveLength(2);
  });
  test('test_filter_by_source', async () => {
    await createSession('s1', 'cli');
    await createSession('s2', 'telegram');
    expect((await db.searchSessions({ source: 'cli' })).map((s) => s.source)).toEqual(['cli']);
  });
  test('test_pagination', async () => {
    for (let i = 0; i < 5; i++) await createSession(`s${i}`, 'cli');
    const page1 = await db.searchSessions({ limit: 2 });
    const page2 = await db.searchSessions({ limit: 2, offset: 2 });
    expect(page1).toHaveLength(2);
    expect(page2).toHaveLength(2);
    expect(page1[0]!.id).not.toBe(page2[0]!.id);
  });
});

describe('TestCounts', () => {
  test('test_session_count', async () => {
    expect(await db.sessionCount()).toBe(0);
    await createSession('s1', 'cli');
    await createSession('s2', 'telegram');
    expect(await db.sessionCount()).toBe(2);
  });
  test('test_session_count_by_source', async () => {
    await createSession('s1', 'cli');
    await createSession('s2', 'telegram');
    await createSession('s3', 'cli');
    expect(await db.sessionCount('cli')).toBe(2);
    expect(await db.sessionCount('telegram')).toBe(1);
  });
  test('test_message_count_total', async () => {
    expect(await db.messageCount()).toBe(0);
    await createSession('s1', 'cli');
    await append('s1', 'user', 'Hello');
    await append('s1', 'assistant', 'Hi');
    expect(await db.messageCount()).toBe(2);
  });
  test('test_message_count_per_session', async () => {
    await createSession('s1', 'cli');
    await createSession('s2', 'cli');
    await append('s1', 'user', 'A');
    await append('s2', 'user', 'B');
    await append('s2', 'user', 'C');
    expect(await db.messageCount('s1')).toBe(1);
    expect(await db.messageCount('s2')).toBe(2);
  });
});

describe('TestDeleteAndExport', () => {
  test('test_delete_session', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', 'Hello');
    expect(await db.deleteSession('s1')).toBe(true);
    expect(await db.getSession('s1')).toBeNull();
    expect(await db.messageCount('s1')).toBe(0);
  });
  test('test_delete_nonexistent', async () => {
    expect(await db.deleteSession('nope')).toBe(false);
  });
  test('test_resolve_session_id_exact', async () => {
    await createSession('20260315_092437_c9a6ff', 'cli');
    expect(await db.resolveSessionId('20260315_092437_c9a6ff')).toBe('20260315_092437_c9a6ff');
  });
  test('test_resolve_session_id_unique_prefix', async () => {
    await createSession('20260315_092437_c9a6ff', 'cli');
    expect(await db.resolveSessionId('20260315_092437_c9a6')).toBe('20260315_092437_c9a6ff');
  });
  test('test_resolve_session_id_ambiguous_prefix_returns_none', async () => {
    await createSession('20260315_092437_c9a6aa', 'cli');
    await createSession('20260315_092437_c9a6bb', 'cli');
    expect(await db.resolveSessionId('20260315_092437_c9a6')).toBeNull();
  });
  test('test_resolve_session_id_escapes_like_wildcards', async () => {
    await createSession('20260315_092437_c9a6ff', 'cli');
    await createSession('20260315X092437_c9a6ff', 'cli');
    expect(await db.resolveSessionId('20260315_092437')).toBe('20260315_092437_c9a6ff');
  });
  test('test_export_session', async () => {
    await createSession('s1', 'cli', { model: 'test' });
    await append('s1', 'user', 'Hello');
    await append('s1', 'assistant', 'Hi');
    const exported = await db.exportSession('s1');
    expect(exported!.source).toBe('cli');
    expect(exported!.messages).toHaveLength(2);
  });
  test('test_export_nonexistent', async () => {
    expect(await db.exportSession('nope')).toBeNull();
  });
  test('test_export_all', async () => {
    await createSession('s1', 'cli');
    await createSession('s2', 'telegram');
    await append('s1', 'user', 'A');
    expect(await db.exportAll()).toHaveLength(2);
  });
  test('test_export_all_with_source', async () => {
    await createSession('s1', 'cli');
    await createSession('s2', 'telegram');
    expect((await db.exportAll({ source: 'cli' })).map((e) => e.source)).toEqual(['cli']);
  });
});

describe('TestPruneSessions', () => {
  test('test_prune_old_ended_sessions', async () => {
    await createSession('old', 'cli');
    await db.endSession('old', 'done');
    await setStarted('old', nowS() - 100 * 86400);
    await createSession('new', 'cli');
    expect(await db.pruneSessions(90)).toBe(1);
    expect(await db.getSession('old')).toBeNull();
    expect((await db.getSession('new'))!.id).toBe('new');
  });
  test('test_prune_skips_active_sessions', async () => {
    await createSession('active', 'cli');
    await setStarted('active', nowS() - 200 * 86400);
    expect(await db.pruneSessions(90)).toBe(0);
    expect(await db.getSession('active')).not.toBeNull();
  });
  test('test_prune_with_source_filter', async () => {
    for (const [sid, src] of [['old_cli', 'cli'], ['old_tg', 'telegram']] as const) {
      await createSession(sid, src);
      await db.endSession(sid, 'done');
      await setStarted(sid, nowS() - 200 * 86400);
    }
    expect(await db.pruneSessions(90, { source: 'cli' })).toBe(1);
    expect(await db.getSession('old_cli')).toBeNull();
    expect(await db.getSession('old_tg')).not.toBeNull();
  });
  test('test_prune_with_multilevel_chain', async () => {
    const old = nowS() - 200 * 86400;
    const recent = nowS() - 10 * 86400;
    await createSession('A', 'cli');
    await db.endSession('A', 'compressed');
    await createSession('B', 'cli', { parentSessionId: 'A' });
    await db.endSession('B', 'compressed');
    await createSession('C', 'cli', { parentSessionId: 'B' });
    await db.endSession('C', 'compressed');
    await createSession('D', 'cli', { parentSessionId: 'C' });
    await db.endSession('D', 'done');
    for (const [sid, ts] of [['A', old], ['B', old], ['C', recent], ['D', recent]] as const) await setStarted(sid, ts);
    expect(await db.pruneSessions(90)).toBe(2);
    expect(await db.getSession('A')).toBeNull();
    expect(await db.getSession('B')).toBeNull();
    expect((await db.getSession('C'))!.parentSessionId).toBeNull();
    expect((await db.getSession('D'))!.parentSessionId).toBe('C');
  });
  test('test_prune_entire_old_chain', async () => {
    const old = nowS() - 200 * 86400;
    await createSession('X', 'cli');
    await db.endSession('X', 'compressed');
    await createSession('Y', 'cli', { parentSessionId: 'X' });
    await db.endSession('Y', 'compressed');
    await createSession('Z', 'cli', { parentSessionId: 'Y' });
    await db.endSession('Z', 'done');
    for (const sid of ['X', 'Y', 'Z']) await setStarted(sid, old);
    expect(await db.pruneSessions(90)).toBe(3);
    for (const sid of ['X', 'Y', 'Z']) expect(await db.getSession(sid)).toBeNull();
  });
});

describe('TestDeleteSessionOrphansChildren', () => {
  test('test_delete_orphans_children', async () => {
    await createSession('parent', 'cli');
    await createSession('child', 'cli', { parentSessionId: 'parent' });
    await createSession('grandchild', 'cli', { parentSessionId: 'child' });
    expect(await db.deleteSession('parent')).toBe(true);
    expect(await db.getSession('parent')).toBeNull();
    expect((await db.getSession('child'))!.parentSessionId).toBeNull();
    expect((await db.getSession('grandchild'))!.parentSessionId).toBe('child');
  });
});

describe('TestSessionTitle', () => {
  test('test_set_and_get_title', async () => {
    await createSession('s1', 'cli');
    expect(await db.setSessionTitle('s1', 'My Session')).toBe(true);
    expect((await db.getSession('s1'))!.title).toBe('My Session');
  });
  test('test_set_title_nonexistent_session', async () => {
    expect(await db.setSessionTitle('nonexistent', 'Title')).toBe(false);
  });
  test('test_title_initially_none', async () => {
    await createSession('s1', 'cli');
    expect((await db.getSession('s1'))!.title).toBeNull();
  });
  test('test_update_title', async () => {
    await createSession('s1', 'cli');
    await db.setSessionTitle('s1', 'First Title');
    await db.setSessionTitle('s1', 'Updated Title');
    expect((await db.getSession('s1'))!.title).toBe('Updated Title');
  });
  test('test_title_in_search_sessions', async () => {
    await createSession('s1', 'cli');
    await db.setSessionTitle('s1', 'Debugging Auth');
    await createSession('s2', 'cli');
    const titled = (await db.searchSessions()).filter((s) => s.title === 'Debugging Auth');
    expect(titled.map((s) => s.id)).toEqual(['s1']);
  });
  test('test_title_in_export', async () => {
    await createSession('s1', 'cli');
    await db.setSessionTitle('s1', 'Export Test');
    await append('s1', 'user', 'Hello');
    expect((await db.exportSession('s1'))!.title).toBe('Export Test');
  });
  test('test_title_with_special_characters', async () => {
    await createSession('s1', 'cli');
    const title = "PR #438 — fixing the 'auth' middleware";
    await db.setSessionTitle('s1', title);
    expect((await db.getSession('s1'))!.title).toBe(title);
  });
  test('test_title_empty_string_normalized_to_none', async () => {
    await createSession('s1', 'cli');
    await db.setSessionTitle('s1', 'My Title');
    await db.setSessionTitle('s1', '');
    expect((await db.getSession('s1'))!.title).toBeNull();
  });
  test('test_multiple_empty_titles_no_conflict', async () => {
    await createSession('s1', 'cli');
    await createSession('s2', 'cli');
    await db.setSessionTitle('s1', '');
    await db.setSessionTitle('s2', '');
    expect((await db.getSession('s1'))!.title).toBeNull();
    expect((await db.getSession('s2'))!.title).toBeNull();
  });
  test('test_title_survives_end_session', async () => {
    await createSession('s1', 'cli');
    await db.setSessionTitle('s1', 'Before End');
    await db.endSession('s1', 'user_exit');
    expect(await db.getSession('s1')).toMatchObject({ title: 'Before End', endedAt: expect.any(Number) });
  });
});

describe('TestSanitizeTitle', () => {
  test('test_normal_title_unchanged', () => expect(sanitizeTitle('My Project')).toBe('My Project'));
  test('test_strips_whitespace', () => expect(sanitizeTitle('  hello world  ')).toBe('hello world'));
  test('test_collapses_internal_whitespace', () => expect(sanitizeTitle('hello   world')).toBe('hello world'));
  test('test_tabs_and_newlines_collapsed', () => expect(sanitizeTitle('hello\t\nworld')).toBe('hello world'));
  test('test_none_returns_none', () => expect(sanitizeTitle(null)).toBeNull());
  test('test_empty_string_returns_none', () => expect(sanitizeTitle('')).toBeNull());
  test('test_whitespace_only_returns_none', () => expect(sanitizeTitle('   \t\n  ')).toBeNull());
  test('test_control_chars_stripped', () => {
    expect(sanitizeTitle('hello\x00world')).toBe('helloworld');
    expect(sanitizeTitle('\x07\x08test\x1b')).toBe('test');
  });
  test('test_del_char_stripped', () => expect(sanitizeTitle('hello\x7fworld')).toBe('helloworld'));
  test('test_zero_width_chars_stripped', () => {
    expect(sanitizeTitle('hello\u200bworld')).toBe('helloworld');
    expect(sanitizeTitle('hello\u200dworld')).toBe('helloworld');
  });
  test('test_rtl_override_stripped', () => expect(sanitizeTitle('hello\u202eworld')).toBe('helloworld'));
  test('test_bom_stripped', () => expect(sanitizeTitle('\ufeffhello')).toBe('hello'));
  test('test_only_control_chars_returns_none', () => expect(sanitizeTitle('\x00\x01\x02\u200b\ufeff')).toBeNull());
  test('test_max_length_allowed', () => expect(sanitizeTitle('A'.repeat(100))).toBe('A'.repeat(100)));
  test('test_exceeds_max_length_raises', () => {
    expect(() => sanitizeTitle('A'.repeat(101))).toThrow(TitleTooLongError);
    expect(() => sanitizeTitle('A'.repeat(101))).toThrow(/too long/);
  });
  test('test_unicode_emoji_allowed', () => expect(sanitizeTitle('🚀 My Project 🎉')).toBe('🚀 My Project 🎉'));
  test('test_cjk_characters_allowed', () => expect(sanitizeTitle('我的项目')).toBe('我的项目'));
  test('test_accented_characters_allowed', () => expect(sanitizeTitle('Résumé éditing')).toBe('Résumé éditing'));
  test('test_special_punctuation_allowed', () => expect(sanitizeTitle("PR #438 — fixing the 'auth' middleware")).toBe("PR #438 — fixing the 'auth' middleware"));
  test('test_sanitize_applied_in_set_session_title', async () => {
    await createSession('s1', 'cli');
    await db.setSessionTitle('s1', '  hello\x00  world  ');
    expect((await db.getSession('s1'))!.title).toBe('hello world');
  });
  test('test_too_long_title_rejected_by_set', async () => {
    await createSession('s1', 'cli');
    await expect(db.setSessionTitle('s1', 'X'.repeat(150))).rejects.toThrow(/too long/);
    expect((await db.getSession('s1'))!.title).toBeNull();
  });
});

describe('TestSchemaInit', () => {
  test('test_wal_mode', () => {
    expect(peek<Array<{ journal_mode: string }>>('PRAGMA journal_mode')[0]!.journal_mode).toBe('wal');
  });
  test('test_tables_exist', () => {
    const tables = new Set(peek<Array<{ name: string }>>("SELECT name FROM sqlite_master WHERE type = 'table'").map((r) => r.name));
    for (const t of ['sessions', 'messages', 'schema_version', 'state_meta']) expect(tables.has(t), t).toBe(true);
  });
  test('test_schema_version', () => {
    expect(peek<Array<{ version: number }>>('SELECT version FROM schema_version')).toEqual([{ version: SCHEMA_VERSION }]);
    expect(SCHEMA_VERSION).toBe(11);
  });
  test('test_title_column_exists', () => {
    expect(peek<Array<{ name: string }>>('PRAGMA table_info(sessions)').map((c) => c.name)).toContain('title');
  });
  test('test_migration_from_v2', async () => {
    const path = join(dir, 'migrate_test.db');
    const conn = new Database(path);
    conn.exec(`
      CREATE TABLE schema_version (version INTEGER NOT NULL);
      INSERT INTO schema_version (version) VALUES (2);
      CREATE TABLE sessions (id TEXT PRIMARY KEY, source TEXT NOT NULL, user_id TEXT, model TEXT, model_config TEXT, system_prompt TEXT,
        parent_session_id TEXT, started_at REAL NOT NULL, ended_at REAL, end_reason TEXT, message_count INTEGER DEFAULT 0,
        tool_call_count INTEGER DEFAULT 0, input_tokens INTEGER DEFAULT 0, output_tokens INTEGER DEFAULT 0);
      CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL, role TEXT NOT NULL, content TEXT,
        tool_call_id TEXT, tool_calls TEXT, tool_name TEXT, timestamp REAL NOT NULL, token_count INTEGER, finish_reason TEXT);`);
    conn.prepare('INSERT INTO sessions (id, source, started_at) VALUES (?, ?, ?)').run('existing', 'cli', 1000.0);
    conn.close();
    const migrated = await SessionStore.open(path);
    try {
      expect(await migrated.queue.get('SELECT version FROM schema_version')).toEqual({ version: 11 });
      expect(await migrated.getSession('existing')).toMatchObject({ title: null, apiCallCount: 0 });
      expect(await migrated.setSessionTitle('existing', 'Migrated Title')).toBe(true);
      expect((await migrated.getSession('existing'))!.title).toBe('Migrated Title');
    } finally {
      await migrated.close();
    }
  });
  test('test_reconciliation_adds_missing_columns', async () => {
    const path = join(dir, 'gap_test.db');
    const conn = new Database(path);
    conn.exec(`
      CREATE TABLE schema_version (version INTEGER NOT NULL);
      INSERT INTO schema_version (version) VALUES (7);
      CREATE TABLE sessions (id TEXT PRIMARY KEY, source TEXT NOT NULL, user_id TEXT, model TEXT, model_config TEXT, system_prompt TEXT,
        parent_session_id TEXT, started_at REAL NOT NULL, ended_at REAL, end_reason TEXT, message_count INTEGER DEFAULT 0,
        tool_call_count INTEGER DEFAULT 0, input_tokens INTEGER DEFAULT 0, output_tokens INTEGER DEFAULT 0, cache_read_tokens INTEGER DEFAULT 0,
        cache_write_tokens INTEGER DEFAULT 0, reasoning_tokens INTEGER DEFAULT 0, billing_provider TEXT, title TEXT, api_call_count INTEGER DEFAULT 0);
      CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL, role TEXT NOT NULL, content TEXT,
        tool_call_id TEXT, tool_calls TEXT, tool_name TEXT, timestamp REAL NOT NULL, token_count INTEGER, finish_reason TEXT,
        reasoning TEXT, reasoning_details TEXT, codex_reasoning_items TEXT);`);
    conn.prepare('INSERT INTO sessions (id, source, started_at) VALUES (?, ?, ?)').run('s1', 'cli', 1000.0);
    conn.prepare('INSERT INTO messages (session_id, role, content, timestamp) VALUES (?, ?, ?, ?)').run('s1', 'assistant', 'hello', 1001.0);
    conn.close();
    const migrated = await SessionStore.open(path);
    try {
      const cols = (await migrated.queue.all<{ name: string }>('SELECT name FROM pragma_table_info(?)', ['messages'])).map((c) => c.name);
      expect(cols).toContain('reasoning_content');
      const row = await migrated.queue.get<Record<string, unknown>>(
        'SELECT role, content, reasoning, reasoning_content, reasoning_details, codex_reasoning_items FROM messages WHERE session_id = ?',
        ['s1'],
      );
      expect(row).toMatchObject({ role: 'assistant', reasoning_content: null });
      // The old file's own extra column (billing_provider) is left alone.
      expect((await migrated.queue.all<{ name: string }>('SELECT name FROM pragma_table_info(?)', ['sessions'])).map((c) => c.name)).toContain('billing_provider');
    } finally {
      await migrated.close();
    }
  });
  test('test_reconciliation_is_idempotent', async () => {
    const path = join(dir, 'idempotent.db');
    const columns = async (): Promise<string[]> => {
      const s = await SessionStore.open(path);
      try {
        return (await s.queue.all<{ name: string }>('SELECT name FROM pragma_table_info(?)', ['messages'])).map((c) => c.name);
      } finally {
        await s.close();
      }
    };
    expect(await columns()).toEqual(await columns());
  });
  test('test_schema_sql_is_source_of_truth', async () => {
    for (const [table, declared] of parseSchemaColumns(TABLES_SQL)) {
      const live = new Set((await db.queue.all<{ name: string }>('SELECT name FROM pragma_table_info(?)', [table])).map((c) => c.name));
      for (const { name } of declared) expect(live.has(name), `${table}.${name}`).toBe(true);
    }
  });
});

describe('TestTitleUniqueness', () => {
  test('test_duplicate_title_raises', async () => {
    await createSession('s1', 'cli');
    await createSession('s2', 'cli');
    await db.setSessionTitle('s1', 'my project');
    await expect(db.setSessionTitle('s2', 'my project')).rejects.toThrow(/already in use/);
  });
  test('test_same_session_can_keep_title', async () => {
    await createSession('s1', 'cli');
    await db.setSessionTitle('s1', 'my project');
    expect(await db.setSessionTitle('s1', 'my project')).toBe(true);
  });
  test('test_null_titles_not_unique', async () => {
    await createSession('s1', 'cli');
    await createSession('s2', 'cli');
    expect((await db.getSession('s1'))!.title).toBeNull();
    expect((await db.getSession('s2'))!.title).toBeNull();
  });
  test('test_get_session_by_title', async () => {
    await createSession('s1', 'cli');
    await db.setSessionTitle('s1', 'refactoring auth');
    expect((await db.getSessionByTitle('refactoring auth'))!.id).toBe('s1');
  });
  test('test_get_session_by_title_not_found', async () => {
    expect(await db.getSessionByTitle('nonexistent')).toBeNull();
  });
  test('test_get_session_title', async () => {
    await createSession('s1', 'cli');
    expect(await db.getSessionTitle('s1')).toBeNull();
    await db.setSessionTitle('s1', 'my title');
    expect(await db.getSessionTitle('s1')).toBe('my title');
  });
  test('test_get_session_title_nonexistent', async () => {
    expect(await db.getSessionTitle('nonexistent')).toBeNull();
  });
});

describe('TestTitleLineage', () => {
  const titled = async (id: string, title: string) => {
    await createSession(id, 'cli');
    await db.setSessionTitle(id, title);
  };
  test('test_resolve_exact_title', async () => {
    await titled('s1', 'my project');
    expect(await db.resolveSessionByTitle('my project')).toBe('s1');
  });
  test('test_resolve_returns_latest_numbered', async () => {
    await titled('s1', 'my project');
    await sleep(10);
    await titled('s2', 'my project #2');
    await sleep(10);
    await titled('s3', 'my project #3');
    expect(await db.resolveSessionByTitle('my project')).toBe('s3');
  });
  test('test_resolve_exact_numbered', async () => {
    await titled('s1', 'my project');
    await titled('s2', 'my project #2');
    expect(await db.resolveSessionByTitle('my project #2')).toBe('s2');
  });
  test('test_resolve_nonexistent_title', async () => {
    expect(await db.resolveSessionByTitle('nonexistent')).toBeNull();
  });
  test('test_next_title_no_existing', async () => {
    expect(await db.getNextTitleInLineage('my project')).toBe('my project');
  });
  test('test_next_title_first_continuation', async () => {
    await titled('s1', 'my project');
    expect(await db.getNextTitleInLineage('my project')).toBe('my project #2');
  });
  test('test_next_title_increments', async () => {
    await titled('s1', 'my project');
    await titled('s2', 'my project #2');
    await titled('s3', 'my project #3');
    expect(await db.getNextTitleInLineage('my project')).toBe('my project #4');
  });
  test('test_next_title_strips_existing_number', async () => {
    await titled('s1', 'my project');
    await titled('s2', 'my project #2');
    expect(await db.getNextTitleInLineage('my project #2')).toBe('my project #3');
  });
});

describe('TestTitleSqlWildcards', () => {
  const titled = async (id: string, title: string) => {
    await createSession(id, 'cli');
    await db.setSessionTitle(id, title);
  };
  test('test_resolve_title_with_underscore', async () => {
    await titled('s1', 'test_project');
    await titled('s2', 'testXproject #2');
    expect(await db.resolveSessionByTitle('test_project')).toBe('s1');
  });
  test('test_resolve_title_with_percent', async () => {
    await titled('s1', '100% done');
    await titled('s2', '100X done #2');
    expect(await db.resolveSessionByTitle('100% done')).toBe('s1');
  });
  test('test_next_lineage_with_underscore', async () => {
    await titled('s1', 'test_project');
    await titled('s2', 'testXproject #2');
    expect(await db.getNextTitleInLineage('test_project')).toBe('test_project #2');
  });
});

describe('TestListSessionsRich', () => {
  test('test_preview_from_first_user_message', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'system', 'You are a helpful assistant.');
    await append('s1', 'user', 'Help me refactor the auth module please');
    await append('s1', 'assistant', 'Sure, let me look at it.');
    const sessions = await db.listSessionsRich();
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.preview).toContain('Help me refactor the auth module');
  });
  test('test_preview_truncated_at_60', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', 'A'.repeat(100));
    const [s] = await db.listSessionsRich();
    expect(s!.preview).toHaveLength(63);
    expect(s!.preview.endsWith('...')).toBe(true);
  });
  test('test_preview_empty_when_no_user_messages', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'system', 'System prompt');
    expect((await db.listSessionsRich())[0]!.preview).toBe('');
  });
  test('test_last_active_from_latest_message', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', 'Hello');
    await sleep(10);
    await append('s1', 'assistant', 'Hi there!');
    const [s] = await db.listSessionsRich();
    expect(s!.lastActive).toBeGreaterThan(s!.startedAt);
  });
  test('test_last_active_fallback_to_started_at', async () => {
    await createSession('s1', 'cli');
    const [s] = await db.listSessionsRich();
    expect(s!.lastActive).toBe(s!.startedAt);
  });
  test('test_rich_list_includes_title', async () => {
    await createSession('s1', 'cli');
    await db.setSessionTitle('s1', 'refactoring auth');
    expect((await db.listSessionsRich())[0]!.title).toBe('refactoring auth');
  });
  test('test_rich_list_source_filter', async () => {
    await createSession('s1', 'cli');
    await createSession('s2', 'telegram');
    expect((await db.listSessionsRich({ source: 'cli' })).map((s) => s.id)).toEqual(['s1']);
  });
  test('test_preview_newlines_collapsed', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', 'Line one\nLine two\nLine three');
    const [s] = await db.listSessionsRich();
    expect(s!.preview).not.toContain('\n');
    expect(s!.preview).toContain('Line one Line two');
  });
  test('test_branch_session_visible_in_list', async () => {
    await createSession('parent', 'cli');
    await db.endSession('parent', 'branched');
    await createSession('branch', 'cli', { parentSessionId: 'parent' });
    await append('branch', 'user', 'Exploring the alternative approach');
    expect((await db.listSessionsRich()).map((s) => s.id)).toContain('branch');
  });
  test('test_subagent_session_still_hidden', async () => {
    await createSession('root', 'cli');
    await createSession('delegate', 'cli', { parentSessionId: 'root' });
    const ids = (await db.listSessionsRich()).map((s) => s.id);
    expect(ids).not.toContain('delegate');
    expect(ids).toContain('root');
  });
  test('test_compression_child_still_hidden', async () => {
    const t0 = nowS();
    await createSession('root', 'cli');
    await db.queue.run("UPDATE sessions SET started_at = ?, ended_at = ?, end_reason = 'compression' WHERE id = ?", [t0, t0 + 1800, 'root']);
    await createSession('continuation', 'cli', { parentSessionId: 'root' });
    await setStarted('continuation', t0 + 1801);
    expect((await db.listSessionsRich({ projectCompressionTips: false })).map((s) => s.id)).not.toContain('continuation');
  });
});

describe('TestCompressionChainProjection', () => {
  async function buildCompressionChain(t0: number): Promise<void> {
    await createSession('root1', 'cli');
    await setStarted('root1', t0);
    await append('root1', 'user', 'help me refactor auth');
    await createSession('delegate1', 'cli', { parentSessionId: 'root1' });
    await db.queue.run('UPDATE sessions SET started_at = ?, ended_at = ? WHERE id = ?', [t0 + 600, t0 + 650, 'delegate1']);
    await append('delegate1', 'user', 'delegate task');
    const compressRoot = t0 + 1800;
    await db.queue.run('UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ?', [compressRoot, 'compression', 'root1']);
    await createSession('mid1', 'cli', { parentSessionId: 'root1' });
    await setStarted('mid1', compressRoot + 1);
    await append('mid1', 'user', 'continuing');
    const compressMid = compressRoot + 1800;
    await db.queue.run('UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ?', [compressMid, 'compression', 'mid1']);
    await createSession('tip1', 'cli', { parentSessionId: 'mid1' });
    await setStarted('tip1', compressMid + 1);
    await append('tip1', 'user', 'latest message');
  }

  test('test_get_compression_tip_walks_full_chain', async () => {
    await buildCompressionChain(nowS() - 3600);
    expect(await db.getCompressionTip('root1')).toBe('tip1');
    expect(await db.getCompressionTip('mid1')).toBe('tip1');
    expect(await db.getCompressionTip('tip1')).toBe('tip1');
  });
  test('test_get_compression_tip_returns_self_for_uncompressed', async () => {
    await createSession('solo', 'cli');
    expect(await db.getCompressionTip('solo')).toBe('solo');
  });
  test('test_get_compression_tip_skips_delegate_children', async () => {
    await buildCompressionChain(nowS() - 3600);
    expect(await db.getCompressionTip('root1')).toBe('tip1');
  });
  test('test_list_surfaces_tip_for_compressed_root', async () => {
    await buildCompressionChain(nowS() - 3600);
    await createSession('solo', 'cli');
    await append('solo', 'user', 'standalone');
    const sessions = await db.listSessionsRich({ source: 'cli', limit: 20 });
    const ids = sessions.map((s) => s.id);
    expect(ids).toContain('tip1');
    expect(ids).toContain('solo');
    for (const hidden of ['root1', 'mid1', 'delegate1']) expect(ids).not.toContain(hidden);
    const tip = sessions.find((s) => s.id === 'tip1')!;
    expect(tip.lineageRootId).toBe('root1');
    expect(tip.preview.startsWith('latest message')).toBe(true);
    expect(tip.endedAt).toBeNull();
    expect(tip.endReason).toBeNull();
  });
  test('test_list_without_projection_returns_raw_root', async () => {
    await buildCompressionChain(nowS() - 3600);
    const sessions = await db.listSessionsRich({ source: 'cli', limit: 20, projectCompressionTips: false });
    const ids = sessions.map((s) => s.id);
    expect(ids).toContain('root1');
    expect(ids).not.toContain('tip1');
    const root = sessions.find((s) => s.id === 'root1')!;
    expect(root.endReason).toBe('compression');
    expect('lineageRootId' in root).toBe(false);
  });
  test('test_list_preserves_sort_by_started_at', async () => {
    const t0 = nowS() - 3600;
    await buildCompressionChain(t0);
    await createSession('newer', 'cli');
    await setStarted('newer', t0 + 120);
    await append('newer', 'user', 'newer session started after root1');
    const ids = (await db.listSessionsRich({ source: 'cli', limit: 20 })).map((s) => s.id);
    expect(ids.indexOf('newer')).toBeLessThan(ids.indexOf('tip1'));
  });
  test('test_list_handles_broken_chain_gracefully', async () => {
    const t0 = nowS() - 100;
    await createSession('orphan', 'cli');
    await db.queue.run('UPDATE sessions SET started_at = ?, ended_at = ?, end_reason = ? WHERE id = ?', [t0, t0 + 10, 'compression', 'orphan']);
    const sessions = await db.listSessionsRich({ source: 'cli', limit: 10 });
    const row = sessions.find((s) => s.id === 'orphan')!;
    expect('lineageRootId' in row).toBe(false);
    expect(row.endReason).toBe('compression');
  });
});

describe('TestExcludeSources', () => {
  test('test_list_sessions_rich_excludes_tool_source', async () => {
    await createSession('s1', 'cli');
    await createSession('s2', 'tool');
    await createSession('s3', 'telegram');
    const ids = (await db.listSessionsRich({ excludeSources: ['tool'] })).map((s) => s.id);
    expect(ids.sort()).toEqual(['s1', 's3']);
  });
  test('test_list_sessions_rich_no_exclusion_returns_all', async () => {
    await createSession('s1', 'cli');
    await createSession('s2', 'tool');
    expect((await db.listSessionsRich()).map((s) => s.id).sort()).toEqual(['s1', 's2']);
  });
  test('test_list_sessions_rich_source_and_exclude_combined', async () => {
    await createSession('s1', 'cli');
    await createSession('s2', 'tool');
    await createSession('s3', 'telegram');
    expect((await db.listSessionsRich({ source: 'tool' })).map((s) => s.id)).toEqual(['s2']);
  });
  test('test_list_sessions_rich_exclude_multiple_sources', async () => {
    await createSession('s1', 'cli');
    await createSession('s2', 'tool');
    await createSession('s3', 'cron');
    await createSession('s4', 'telegram');
    expect((await db.listSessionsRich({ excludeSources: ['tool', 'cron'] })).map((s) => s.id).sort()).toEqual(['s1', 's4']);
  });
  test('test_search_messages_excludes_tool_source', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', 'Python deployment question');
    await createSession('s2', 'tool');
    await append('s2', 'user', 'Python automated question');
    expect((await db.searchMessages('Python', { excludeSources: ['tool'] })).map((r) => r.source)).toEqual(['cli']);
  });
  test('test_search_messages_no_exclusion_returns_all_sources', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', 'Rust deployment question');
    await createSession('s2', 'tool');
    await append('s2', 'user', 'Rust automated question');
    expect((await db.searchMessages('Rust')).map((r) => r.source).sort()).toEqual(['cli', 'tool']);
  });
  test('test_search_messages_source_include_and_exclude', async () => {
    for (const [sid, src] of [['s1', 'cli'], ['s2', 'telegram'], ['s3', 'tool']] as const) {
      await createSession(sid, src);
      await append(sid, 'user', 'Golang test');
    }
    expect((await db.searchMessages('Golang', { sourceFilter: ['cli', 'tool'], excludeSources: ['tool'] })).map((r) => r.source)).toEqual(['cli']);
  });
});

describe('TestResolveSessionByNameOrId', () => {
  test('test_resolve_by_id', async () => {
    await createSession('test-id-123', 'cli');
    expect((await db.getSession('test-id-123'))!.id).toBe('test-id-123');
  });
  test('test_resolve_by_title_falls_back', async () => {
    await createSession('s1', 'cli');
    await db.setSessionTitle('s1', 'my project');
    expect(await db.resolveSessionByTitle('my project')).toBe('s1');
  });
});

describe('TestConcurrentWriteSafety', () => {
  test('test_create_session_insert_or_ignore_is_idempotent', async () => {
    await createSession('dup-1', 'cli', { model: 'm' });
    await createSession('dup-1', 'gateway', { model: 'm2' });
    expect((await db.getSession('dup-1'))!.source).toBe('cli');
  });
  test('test_ensure_session_creates_missing_row', async () => {
    expect(await db.getSession('orphan-session')).toBeNull();
    await db.ensureSession('orphan-session', 'gateway', 'test-model');
    expect(await db.getSession('orphan-session')).toMatchObject({ source: 'gateway', model: 'test-model' });
  });
  test('test_ensure_session_is_idempotent', async () => {
    await createSession('existing', 'cli', { model: 'original-model' });
    await db.ensureSession('existing', 'gateway', 'overwrite-model');
    expect(await db.getSession('existing')).toMatchObject({ source: 'cli', model: 'original-model' });
  });
  test('test_ensure_session_allows_append_message_after_failed_create', async () => {
    await db.ensureSession('late-session', 'gateway', 'gpt-4');
    await append('late-session', 'user', 'hello after lock');
    expect((await db.getMessages('late-session')).map((m) => m.content)).toEqual(['hello after lock']);
  });
});

describe('TestStateMeta', () => {
  test('test_get_meta_missing_returns_none', async () => {
    expect(await db.getMeta('nonexistent')).toBeNull();
  });
  test('test_set_then_get_meta', async () => {
    await db.setMeta('foo', 'bar');
    expect(await db.getMeta('foo')).toBe('bar');
  });
  test('test_set_meta_upsert', async () => {
    await db.setMeta('key', 'v1');
    await db.setMeta('key', 'v2');
    expect(await db.getMeta('key')).toBe('v2');
  });
});

describe('TestVacuum', () => {
  test('test_vacuum_runs_without_error', async () => {
    await createSession('s1', 'cli');
    await append('s1', 'user', 'hi');
    await db.vacuum();
    expect(await db.messageCount()).toBe(1);
  });
});

describe('TestAutoMaintenance', () => {
  const makeOldEnded = async (sid: string, daysOld = 100) => {
    await createSession(sid, 'cli');
    await db.endSession(sid, 'done');
    await setStarted(sid, nowS() - daysOld * 86400);
  };

  test('test_first_run_prunes_and_vacuums', async () => {
    await makeOldEnded('old1');
    await makeOldEnded('old2');
    await createSession('new', 'cli');
    const result = await db.maybeAutoPruneAndVacuum({ retentionDays: 90 });
    expect(result).toEqual({ skipped: false, pruned: 2, vacuumed: true });
    expect(await db.getSession('old1')).toBeNull();
    expect(await db.getSession('old2')).toBeNull();
    expect(await db.getSession('new')).not.toBeNull();
  });
  test('test_second_call_within_interval_skips', async () => {
    await makeOldEnded('old');
    expect(await db.maybeAutoPruneAndVacuum({ retentionDays: 90, minIntervalHours: 24 })).toMatchObject({ skipped: false, pruned: 1 });
    await makeOldEnded('old2');
    expect(await db.maybeAutoPruneAndVacuum({ retentionDays: 90, minIntervalHours: 24 })).toMatchObject({ skipped: true, pruned: 0 });
    expect(await db.getSession('old2')).not.toBeNull();
  });
  test('test_second_call_after_interval_runs_again', async () => {
    await makeOldEnded('old');
    await db.maybeAutoPruneAndVacuum({ retentionDays: 90, minIntervalHours: 24 });
    await db.setMeta('last_auto_prune', String(nowS() - 48 * 3600));
    await makeOldEnded('old2');
    expect(await db.maybeAutoPruneAndVacuum({ retentionDays: 90, minIntervalHours: 24 })).toMatchObject({ skipped: false, pruned: 1 });
    expect(await db.getSession('old2')).toBeNull();
  });
  test('test_no_prunable_sessions_no_vacuum', async () => {
    await createSession('fresh', 'cli');
    expect(await db.maybeAutoPruneAndVacuum({ retentionDays: 90 })).toEqual({ skipped: false, pruned: 0, vacuumed: false });
    expect(await db.getMeta('last_auto_prune')).not.toBeNull();
  });
  test('test_vacuum_disabled_via_flag', async () => {
    await makeOldEnded('old');
    expect(await db.maybeAutoPruneAndVacuum({ retentionDays: 90, vacuum: false })).toMatchObject({ pruned: 1, vacuumed: false });
  });
  test('test_corrupt_last_run_marker_treated_as_no_prior_run', async () => {
    await db.setMeta('last_auto_prune', 'not-a-timestamp');
    await makeOldEnded('old');
    expect(await db.maybeAutoPruneAndVacuum({ retentionDays: 90 })).toMatchObject({ skipped: false, pruned: 1 });
  });
  test('test_state_meta_survives_vacuum', async () => {
    await makeOldEnded('old');
    await db.maybeAutoPruneAndVacuum({ retentionDays: 90 });
    const marker = await db.getMeta('last_auto_prune');
    expect(Math.abs(Number(marker) - nowS())).toBeLessThan(60);
  });
  test('test_auto_prune_deletes_transcript_files', async () => {
    const sessionsDir = join(dir, 'sessions');
    mkdirSync(sessionsDir);
    await makeOldEnded('old1');
    await makeOldEnded('old2');
    await createSession('new', 'cli');
    for (const name of ['old1.json', 'old1.jsonl', 'old2.jsonl', 'request_dump_old1_001.json', 'new.jsonl']) writeFileSync(join(sessionsDir, name), '{}\n');
    expect((await db.maybeAutoPruneAndVacuum({ retentionDays: 90, sessionsDir })).pruned).toBe(2);
    for (const name of ['old1.json', 'old1.jsonl', 'old2.jsonl', 'request_dump_old1_001.json']) expect(existsSync(join(sessionsDir, name)), name).toBe(false);
    expect(existsSync(join(sessionsDir, 'new.jsonl'))).toBe(true);
  });
  test('test_auto_prune_without_sessions_dir_preserves_files', async () => {
    const sessionsDir = join(dir, 'sessions');
    mkdirSync(sessionsDir);
    await makeOldEnded('old');
    writeFileSync(join(sessionsDir, 'old.jsonl'), '{}\n');
    expect((await db.maybeAutoPruneAndVacuum({ retentionDays: 90 })).pruned).toBe(1);
    expect(existsSync(join(sessionsDir, 'old.jsonl'))).toBe(true);
  });
  test('test_prune_sessions_deletes_files_for_pruned_only', async () => {
    const sessionsDir = join(dir, 'sessions');
    mkdirSync(sessionsDir);
    await makeOldEnded('old');
    await createSession('active', 'cli');
    writeFileSync(join(sessionsDir, 'old.jsonl'), '{}\n');
    writeFileSync(join(sessionsDir, 'active.jsonl'), '{}\n');
    expect(await db.pruneSessions(90, { sessionsDir })).toBe(1);
    expect(existsSync(join(sessionsDir, 'old.jsonl'))).toBe(false);
    expect(existsSync(join(sessionsDir, 'active.jsonl'))).toBe(true);
  });
});
