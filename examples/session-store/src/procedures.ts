// The session store's writes. Each named export is a litescribe procedure, `(db, args) => result`,
// run by the writer thread inside the batch transaction and its own SAVEPOINT: all of a
// procedure's statements commit together or not at all.
import type { Database, Statement } from 'better-sqlite3';
import { FTS_COLUMNS, FTS_COLUMNS_SINCE, FTS_SQL, INDEXES_SQL, SCHEMA_VERSION, TABLES_SQL, parseSchemaColumns } from './schema.js';
import { sanitizeTitle } from './text.js';
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

const json = (value: unknown): string | null => (value === undefined || value === null ? null : JSON.stringify(value));

/**
 * Brings the file to `SCHEMA_VERSION`: creates what is missing, adds every declared column an older
 * file lacks (whatever its recorded version says), and rebuilds the full-text indexes when their
 * columns changed or the file predates version 11. Idempotent; every store runs it when it opens.
 * Resolves with the version found (null for a new file) and the version now.
 */
export function migrate(db: Database): { from: number | null; to: number } {
  db.exec(TABLES_SQL);
  for (const [table, columns] of parseSchemaColumns(TABLES_SQL)) {
    const live = new Set((db.pragma(`table_info(${table})`) as Array<{ name: string }>).map((c) => c.name));
    for (const { name, definition } of columns) {
      if (live.has(name)) continue;
      // ADD COLUMN cannot add NOT NULL without a default; such a column is left nullable.
      const def = /DEFAULT/i.test(definition) ? definition : definition.replace(/NOT NULL/i, '').trim();
      db.exec(`ALTER TABLE ${table} ADD COLUMN ${name} ${def}`);
    }
  }
  db.exec(INDEXES_SQL);
  const row = db.prepare('SELECT version FROM schema_version LIMIT 1').get() as { version: number } | undefined;
  const from = row?.version ?? null;
  const ftsColumns = (db.pragma('table_info(messages_fts)') as Array<{ name: string }>).map((c) => c.name);
  const ftsCurrent = ftsColumns.join(',') === FTS_COLUMNS.join(',');
  if (!ftsCurrent || (from !== null && from < FTS_COLUMNS_SINCE)) {
    for (const trigger of ['messages_fts_insert', 'messages_fts_delete', 'messages_fts_update']) db.exec(`DROP TRIGGER IF EXISTS ${trigger}`);
    db.exec('DROP TABLE IF EXISTS messages_fts; DROP TABLE IF EXISTS messages_fts_trigram;');
    db.exec(FTS_SQL);
    db.exec("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild'); INSERT INTO messages_fts_trigram(messages_fts_trigram) VALUES ('rebuild');");
  } else {
    db.exec(FTS_SQL);
  }
  if (row === undefined) db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(SCHEMA_VERSION);
  else if (row.version < SCHEMA_VERSION) db.prepare('UPDATE schema_version SET version = ?').run(SCHEMA_VERSION);
  return { from, to: Math.max(from ?? SCHEMA_VERSION, SCHEMA_VERSION) };
}

/** Creates a session; one that exists already is left as it is (the first write wins). Returns the id. */
export function createSession(db: Database, s: NewSession): string {
  prepared(
    db,
    `INSERT OR IGNORE INTO sessions (id, source, user_id, model, model_config, system_prompt, parent_session_id, started_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(s.id, s.source, s.userId ?? null, s.model ?? null, json(s.modelConfig), s.systemPrompt ?? null, s.parentSessionId ?? null, now());
  return s.id;
}

/** Creates a minimal session row when it is missing (with `source` and `model`); never changes one. */
export function ensureSession(db: Database, { id, source, model }: { id: string; source: string; model?: string | null }): void {
  createSession(db, { id, source, model: model ?? null });
}

/** Ends a session once: the first end reason and time stay until `reopenSession`. Missing: nothing happens. */
export function endSession(db: Database, { id, reason }: { id: string; reason: string }): void {
  prepared(db, 'UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL').run(now(), reason, id);
}

/** Clears a session's end, so it can be ended again. */
export function reopenSession(db: Database, { id }: { id: string }): void {
  prepared(db, 'UPDATE sessions SET ended_at = NULL, end_reason = NULL WHERE id = ?').run(id);
}

export function updateSystemPrompt(db: Database, { id, systemPrompt }: { id: string; systemPrompt: string }): void {
  prepared(db, 'UPDATE sessions SET system_prompt = ? WHERE id = ?').run(systemPrompt, id);
}

const TOKEN_COLUMNS: ReadonlyArray<[keyof TokenCounts, string]> = [
  ['inputTokens', 'input_tokens'],
  ['outputTokens', 'output_tokens'],
  ['cacheReadTokens', 'cache_read_tokens'],
  ['cacheWriteTokens', 'cache_write_tokens'],
  ['apiCallCount', 'api_call_count'],
];

/**
 * Adds to the token counters (with `absolute`, sets the ones given instead). A model is backfilled
 * into a session that has none and never overwrites one.
 */
export function updateTokenCounts(db: Database, { id, counts, absolute = false }: { id: string; counts: TokenCounts; absolute?: boolean }): void {
  const sets: string[] = [];
  const values: unknown[] = [];
  for (const [key, column] of TOKEN_COLUMNS) {
    const value = counts[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new TypeError(`${key} must be a whole number >= 0, got ${JSON.stringify(value)}`);
    sets.push(absolute ? `${column} = ?` : `${column} = COALESCE(${column}, 0) + ?`);
    values.push(value);
  }
  if (counts.model !== undefined && counts.model !== null) {
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
 * Sets a session's title, cleaned by `sanitizeTitle` (nothing left clears it). Returns false when
 * the session does not exist. A title another session has is an error naming that session.
 */
export function setSessionTitle(db: Database, { id, title }: { id: string; title: string | null }): boolean {
  const clean = sanitizeTitle(title);
  if (clean !== null) {
    const other = prepared(db, 'SELECT id FROM sessions WHERE title = ? AND id <> ?').pluck().get(clean, id) as string | undefined;
    if (other !== undefined) throw new Error(`title ${JSON.stringify(clean)} is already in use by session ${other}`);
  }
  return prepared(db, 'UPDATE sessions SET title = ? WHERE id = ?').run(clean, id).changes === 1;
}

/**
 * Appends a message and bumps the session's counters: message_count by one, tool_call_count by the
 * number of tool calls on this message (a tool's reply carries none, so it does not count).
 * Returns the message id. The session must exist (`ensureSession` first when unsure).
 */
export function appendMessage(db: Database, { sessionId, message: m }: { sessionId: string; message: NewMessage }): number {
  if (prepared(db, 'SELECT 1 FROM sessions WHERE id = ?').get(sessionId) === undefined) throw new Error(`no session ${JSON.stringify(sessionId)}`);
  const calls = m.toolCalls ?? null;
  if (calls !== null && !Array.isArray(calls)) throw new TypeError('toolCalls must be an array or null');
  const r = prepared(
    db,
    `INSERT INTO messages (session_id, role, content, tool_call_id, tool_calls, tool_name, timestamp, token_count, finish_reason,
                           reasoning, reasoning_content, reasoning_details, codex_reasoning_items, codex_message_items)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    sessionId,
    m.role,
    m.content ?? null,
    m.toolCallId ?? null,
    calls === null || calls.length === 0 ? null : JSON.stringify(calls),
    m.toolName ?? null,
    m.timestamp ?? now(),
    m.tokenCount ?? null,
    m.finishReason ?? null,
    m.reasoning ?? null,
    m.reasoningContent ?? null,
    json(m.reasoningDetails),
    json(m.codexReasoningItems),
    json(m.codexMessageItems),
  );
  prepared(db, 'UPDATE sessions SET message_count = COALESCE(message_count, 0) + 1, tool_call_count = COALESCE(tool_call_count, 0) + ? WHERE id = ?').run(calls?.length ?? 0, sessionId);
  return Number(r.lastInsertRowid);
}

/** Deletes a session's messages and resets its counters. Returns how many messages went. */
export function clearMessages(db: Database, { sessionId }: { sessionId: string }): number {
  const r = prepared(db, 'DELETE FROM messages WHERE session_id = ?').run(sessionId);
  prepared(db, 'UPDATE sessions SET message_count = 0, tool_call_count = 0 WHERE id = ?').run(sessionId);
  return r.changes;
}

/**
 * Deletes sessions and their messages; their children that stay lose their parent (NULL). Every
 * reference to a deleted session is cleared first: better-sqlite3 enforces foreign keys, and a
 * chain deleted parent first would otherwise fail on its own next link.
 */
function deleteSessions(db: Database, ids: readonly string[]): number {
  for (const id of ids) prepared(db, 'UPDATE sessions SET parent_session_id = NULL WHERE parent_session_id = ?').run(id);
  let count = 0;
  for (const id of ids) {
    prepared(db, 'DELETE FROM messages WHERE session_id = ?').run(id);
    count += prepared(db, 'DELETE FROM sessions WHERE id = ?').run(id).changes;
  }
  return count;
}

/** Deletes a session and its messages; its children are kept, without a parent. Returns true if it existed. */
export function deleteSession(db: Database, { id }: { id: string }): boolean {
  return deleteSessions(db, [id]) === 1;
}

/**
 * Deletes ended sessions that started more than `olderThanDays` days ago (optionally of one source),
 * with their messages. A newer child of a pruned session is kept and loses its parent. Returns the
 * ids pruned.
 */
export function pruneSessions(db: Database, { olderThanDays, source }: { olderThanDays: number; source?: string | null }): string[] {
  if (typeof olderThanDays !== 'number' || !(olderThanDays >= 0)) throw new TypeError(`olderThanDays must be a number >= 0, got ${JSON.stringify(olderThanDays)}`);
  const cutoff = now() - olderThanDays * 86_400;
  const bySource = source === undefined || source === null ? '' : ' AND source = ?';
  const args: unknown[] = source === undefined || source === null ? [cutoff] : [cutoff, source];
  const ids = prepared(db, `SELECT id FROM sessions WHERE ended_at IS NOT NULL AND started_at < ?${bySource}`).pluck().all(...args) as string[];
  deleteSessions(db, ids);
  return ids;
}

/** Sets a key of the store's own key/value table (insert or overwrite). */
export function setMeta(db: Database, { key, value }: { key: string; value: string | null }): void {
  prepared(db, 'INSERT INTO state_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
}

/**
 * The prune half of automatic maintenance, in one transaction: skipped when the last run (the
 * `last_auto_prune` key) is less than `minIntervalHours` old; otherwise prunes and records the run.
 * A marker that is not a number counts as no run.
 */
export function autoPrune(db: Database, { retentionDays, minIntervalHours }: { retentionDays: number; minIntervalHours: number }): { skipped: boolean; pruned: string[] } {
  const last = Number(prepared(db, "SELECT value FROM state_meta WHERE key = 'last_auto_prune'").pluck().get() ?? Number.NaN);
  const at = now();
  if (Number.isFinite(last) && at - last < minIntervalHours * 3600) return { skipped: true, pruned: [] };
  const pruned = pruneSessions(db, { olderThanDays: retentionDays });
  setMeta(db, { key: 'last_auto_prune', value: String(at) });
  return { skipped: false, pruned };
}
