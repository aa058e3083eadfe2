// The session store's writes. Each named export is a litescribe procedure, `(db, args) => result`,
// run by the writer thread inside the batch transaction and its own SAVEPOINT.
import type { Database, Statement } from 'better-sqlite3';
import type { NewMessage, NewSession, TokenCounts } from './types.js';

const now = (): number => Date.now() / 1000;

// Each procedure runs once per call; preparing its statements every time cost the writer about as
// much as running them (writer-thread --cpu-prof in the multi-process bench). One cache per connection.
const caches = new WeakMap<Database, Map<string, Statement>>();
function prepared(db: Database, sql: string): Statement {
  let cache = caches.get(db);
  if (cache === undefined) {
    cache = new Map();
    caches.set(db, cache);
  }
  let stmt = cache.get(sql);
  if (stmt === undefined) {
    stmt = db.prepare(sql);
    cache.set(sql, stmt);
  }
  return stmt;
}

/** Creates a session; a session that exists already is left as it is. Returns true if created. */
export function createSession(db: Database, s: NewSession): boolean {
  const r = prepared(db, 
      `INSERT OR IGNORE INTO sessions (id, source, user_id, model, model_config, system_prompt, parent_session_id, started_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(s.id, s.source, s.userId ?? null, s.model ?? null, s.modelConfig === undefined ? null : JSON.stringify(s.modelConfig), s.systemPrompt ?? null, s.parentSessionId ?? null, now());
  return r.changes === 1;
}

/** Makes sure a session exists (created with `source` if missing). Returns true if it had to create it. */
export function ensureSession(db: Database, { id, source }: { id: string; source: string }): boolean {
  return createSession(db, { id, source });
}

function requireSession(db: Database, id: string): void {
  if (prepared(db, 'SELECT 1 FROM sessions WHERE id = ?').get(id) === undefined) throw new Error(`no session ${JSON.stringify(id)}`);
}

export function endSession(db: Database, { id, reason }: { id: string; reason: string }): void {
  requireSession(db, id);
  prepared(db, 'UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ?').run(now(), reason, id);
}

export function reopenSession(db: Database, { id }: { id: string }): void {
  requireSession(db, id);
  prepared(db, 'UPDATE sessions SET ended_at = NULL, end_reason = NULL WHERE id = ?').run(id);
}

export function updateSystemPrompt(db: Database, { id, systemPrompt }: { id: string; systemPrompt: string }): void {
  requireSession(db, id);
  prepared(db, 'UPDATE sessions SET system_prompt = ? WHERE id = ?').run(systemPrompt, id);
}

/**
 * Adds to the token counters (or, with `absolute`, sets the ones given). A model is backfilled into
 * a session that has none and never overwrites one.
 */
export function updateTokenCounts(db: Database, { id, counts, absolute = false }: { id: string; counts: TokenCounts; absolute?: boolean }): void {
  requireSession(db, id);
  const columns: Array<[keyof TokenCounts, string]> = [
    ['inputTokens', 'input_tokens'],
    ['outputTokens', 'output_tokens'],
    ['cacheReadTokens', 'cache_read_tokens'],
    ['cacheWriteTokens', 'cache_write_tokens'],
    ['apiCallCount', 'api_call_count'],
  ];
  const sets: string[] = [];
  const values: unknown[] = [];
  for (const [key, column] of columns) {
    const value = counts[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new Error(`${key} must be a whole number >= 0, got ${JSON.stringify(value)}`);
    sets.push(absolute ? `${column} = ?` : `${column} = ${column} + ?`);
    values.push(value);
  }
  if (counts.model !== undefined) {
    sets.push('model = COALESCE(model, ?)');
    values.push(counts.model);
  }
  if (sets.length > 0) prepared(db, `UPDATE sessions SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
}

/** Sets the counters given to exactly these values. */
export function setTokenCounts(db: Database, { id, counts }: { id: string; counts: TokenCounts }): void {
  updateTokenCounts(db, { id, counts, absolute: true });
}

/**
 * Sets a session's title, trimmed; an empty title clears it. A title another session already has is
 * an error that names that session. Returns the title stored (or null).
 */
export function setTitle(db: Database, { id, title }: { id: string; title: string | null }): string | null {
  requireSession(db, id);
  const clean = title === null ? null : title.trim() === '' ? null : title.trim();
  if (clean !== null) {
    const other = prepared(db, 'SELECT id FROM sessions WHERE title = ? AND id <> ?').pluck().get(clean, id) as string | undefined;
    if (other !== undefined) throw new Error(`title ${JSON.stringify(clean)} is already used by session ${other}`);
  }
  prepared(db, 'UPDATE sessions SET title = ? WHERE id = ?').run(clean, id);
  return clean;
}

/**
 * Appends a message and bumps the session's counters: message_count by one, tool_call_count by the
 * number of tool calls on this message (a tool's reply carries none, so it does not count).
 * Returns the message id.
 */
export function appendMessage(db: Database, { sessionId, message: m }: { sessionId: string; message: NewMessage }): number {
  requireSession(db, sessionId);
  const calls = m.toolCalls ?? null;
  if (calls !== null && !Array.isArray(calls)) throw new Error('toolCalls must be an array or null');
  const r = prepared(db, 
      `INSERT INTO messages (session_id, role, content, tool_call_id, tool_calls, tool_name, timestamp, token_count, finish_reason, reasoning)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(sessionId, m.role, m.content ?? null, m.toolCallId ?? null, calls === null ? null : JSON.stringify(calls), m.toolName ?? null, m.timestamp ?? now(), m.tokenCount ?? null, m.finishReason ?? null, m.reasoning ?? null);
  prepared(db, 'UPDATE sessions SET message_count = message_count + 1, tool_call_count = tool_call_count + ? WHERE id = ?').run(calls?.length ?? 0, sessionId);
  return Number(r.lastInsertRowid);
}

/** Deletes a session's messages and resets its counters. Returns how many messages went. */
export function clearMessages(db: Database, { sessionId }: { sessionId: string }): number {
  requireSession(db, sessionId);
  const r = prepared(db, 'DELETE FROM messages WHERE session_id = ?').run(sessionId);
  prepared(db, 'UPDATE sessions SET message_count = 0, tool_call_count = 0 WHERE id = ?').run(sessionId);
  return r.changes;
}

/** Deletes a session and its messages. Returns true if it existed. */
export function deleteSession(db: Database, { id }: { id: string }): boolean {
  prepared(db, 'DELETE FROM messages WHERE session_id = ?').run(id);
  return prepared(db, 'DELETE FROM sessions WHERE id = ?').run(id).changes === 1;
}

/** Deletes ended sessions (and their messages) that ended more than `olderThanDays` ago, optionally of one source. */
export function pruneSessions(db: Database, { olderThanDays, source }: { olderThanDays: number; source?: string }): number {
  if (typeof olderThanDays !== 'number' || !(olderThanDays >= 0)) throw new Error(`olderThanDays must be a number >= 0, got ${JSON.stringify(olderThanDays)}`);
  const cutoff = now() - olderThanDays * 86_400;
  const where = `ended_at IS NOT NULL AND ended_at < ?${source === undefined ? '' : ' AND source = ?'}`;
  const args = source === undefined ? [cutoff] : [cutoff, source];
  prepared(db, `DELETE FROM messages WHERE session_id IN (SELECT id FROM sessions WHERE ${where})`).run(...args);
  return prepared(db, `DELETE FROM sessions WHERE ${where}`).run(...args).changes;
}
