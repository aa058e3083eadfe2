import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { openWriteQueue } from '@litescribe/core';
import type { BindValue, WriteQueue, WriteQueueOptions } from '@litescribe/core';
import { containsCjk, escapeLike, sanitizeFts5Query, sanitizeTitle, stripMemoryContext, trigramQuery } from './text.js';
import type {
  ConversationMessage,
  MaintenanceResult,
  Message,
  NewMessage,
  NewSession,
  RichSession,
  SearchHit,
  SearchOptions,
  Session,
  SessionExport,
  TokenCounts,
} from './types.js';
import { vacuumFile } from './vacuum.js';

const PROCEDURES = new URL('./procedures.js', import.meta.url);

type Row = Record<string, unknown>;

/**
 * An agent tool's session store on litescribe: a TypeScript port of hermes-agent's `SessionDB`
 * (behaviour for behaviour; see the README for the name mapping). Writes are procedures run by the
 * writer thread (each one atomic, group-committed with whatever else is queued); reads go to the
 * reader threads. Several processes may open stores on the same file at once.
 */
export class SessionStore {
  /** The underlying queue, for anything the store does not wrap. */
  readonly queue: WriteQueue;
  readonly #path: string;

  private constructor(queue: WriteQueue, path: string) {
    this.queue = queue;
    this.#path = path;
  }

  /**
   * Opens (and if needed creates) the store at `path`, and brings an older file's schema up to date
   * (the `migrate` procedure: missing tables and columns, full-text indexes). Extra queue options
   * pass through.
   */
  static async open(path: string, options: Omit<WriteQueueOptions, 'path' | 'setup' | 'procedures'> = {}): Promise<SessionStore> {
    const queue = await openWriteQueue({ ...options, path, procedures: PROCEDURES });
    try {
      await queue.call('migrate');
    } catch (err) {
      await queue.destroy();
      throw err;
    }
    return new SessionStore(queue, path);
  }

  // ── Session lifecycle ───────────────────────────────────────────────────────────────────────

  /** Creates a session (insert-or-ignore: an existing one is left as it is). Resolves with the id. */
  createSession(session: NewSession): Promise<string> {
    return this.queue.call('createSession', session);
  }

  /** Creates a minimal row for `id` when it is missing; never changes an existing one. */
  ensureSession(id: string, source: string, model?: string | null): Promise<void> {
    return this.queue.call('ensureSession', { id, source, model: model ?? null });
  }

  /** Ends the session once: a second end keeps the first reason and time (until `reopenSession`). */
  endSession(id: string, reason: string): Promise<void> {
    return this.queue.call('endSession', { id, reason });
  }

  reopenSession(id: string): Promise<void> {
    return this.queue.call('reopenSession', { id });
  }

  updateSystemPrompt(id: string, systemPrompt: string): Promise<void> {
    return this.queue.call('updateSystemPrompt', { id, systemPrompt });
  }

  /** Adds to the token counters (`absolute`: sets them); a `model` is backfilled only into a session without one. */
  updateTokenCounts(id: string, counts: TokenCounts, options: { absolute?: boolean } = {}): Promise<void> {
    return this.queue.call('updateTokenCounts', { id, counts, absolute: options.absolute === true });
  }

  /** Sets the given counters to exactly these values (`updateTokenCounts(id, counts, { absolute: true })`). */
  setTokenCounts(id: string, counts: TokenCounts): Promise<void> {
    return this.queue.call('setTokenCounts', { id, counts });
  }

  async getSession(id: string): Promise<Session | null> {
    const row = await this.queue.get<Row>('SELECT * FROM sessions WHERE id = ?', [id]);
    return row === undefined ? null : toSession(row);
  }

  /** The id itself when it exists; else the one session whose id starts with it; else null (none, or ambiguous). */
  async resolveSessionId(idOrPrefix: string): Promise<string | null> {
    const exact = await this.queue.get<{ id: string }>('SELECT id FROM sessions WHERE id = ?', [idOrPrefix]);
    if (exact !== undefined) return exact.id;
    const rows = await this.queue.all<{ id: string }>("SELECT id FROM sessions WHERE id LIKE ? ESCAPE '\\' LIMIT 2", [`${escapeLike(idOrPrefix)}%`]);
    return rows.length === 1 ? rows[0]!.id : null;
  }

  // ── Titles ──────────────────────────────────────────────────────────────────────────────────

  /**
   * Sets the title, cleaned by `sanitizeTitle` (nothing left clears it). Resolves false when the
   * session does not exist. Rejects with `TitleTooLongError` over 100 characters (before anything is
   * queued), and with a `ProcedureError` saying "already in use" when another session has the title.
   */
  async setSessionTitle(id: string, title: string | null): Promise<boolean> {
    sanitizeTitle(title); // throws here, on the caller's side, for a title that can never be stored
    return this.queue.call('setSessionTitle', { id, title });
  }

  async getSessionTitle(id: string): Promise<string | null> {
    const row = await this.queue.get<{ title: string | null }>('SELECT title FROM sessions WHERE id = ?', [id]);
    return row?.title ?? null;
  }

  async getSessionByTitle(title: string): Promise<Session | null> {
    const row = await this.queue.get<Row>('SELECT * FROM sessions WHERE title = ?', [title]);
    return row === undefined ? null : toSession(row);
  }

  /**
   * The session a title names: the latest (by start) of its numbered continuations (`title #2`,
   * `title #3`, …) when there are any, else the session with exactly that title, else null.
   */
  async resolveSessionByTitle(title: string): Promise<string | null> {
    const { exact, numbered } = await this.#lineage(title);
    if (numbered.length > 0) return numbered.sort((a, b) => b.startedAt - a.startedAt || b.n - a.n)[0]!.id;
    return exact;
  }

  /** The title for the next continuation of `title`'s lineage: `title` when unused, else `base #N+1`. */
  async getNextTitleInLineage(title: string): Promise<string> {
    const base = title.replace(/ #\d+$/, '');
    const { exact, numbered } = await this.#lineage(base);
    if (exact === null && numbered.length === 0) return base;
    const highest = Math.max(1, ...numbered.map((v) => v.n));
    return `${base} #${highest + 1}`;
  }

  /** In one read: the session titled exactly `base`, and those titled `base #N`. */
  async #lineage(base: string): Promise<{ exact: string | null; numbered: Array<{ id: string; n: number; startedAt: number }> }> {
    const rows = await this.queue.all<{ id: string; title: string; started_at: number }>(
      "SELECT id, title, started_at FROM sessions WHERE title = ? OR title LIKE ? ESCAPE '\\'",
      [base, `${escapeLike(base)} #%`],
    );
    let exact: string | null = null;
    const numbered: Array<{ id: string; n: number; startedAt: number }> = [];
    for (const r of rows) {
      if (r.title === base) {
        exact = r.id;
        continue;
      }
      const m = /^ #(\d+)$/.exec(r.title.slice(base.length));
      if (m !== null) numbered.push({ id: r.id, n: Number(m[1]), startedAt: r.started_at });
    }
    return { exact, numbered };
  }

  // ── Messages ────────────────────────────────────────────────────────────────────────────────

  /** Appends a message, bumping message_count and tool_call_count. Resolves with the message id. */
  appendMessage(sessionId: string, message: NewMessage): Promise<number> {
    return this.queue.call('appendMessage', { sessionId, message });
  }

  /** The session's messages by timestamp (then id); JSON columns parsed back. */
  async getMessages(sessionId: string): Promise<Message[]> {
    const rows = await this.queue.all<Row>('SELECT * FROM messages WHERE session_id = ? ORDER BY timestamp, id', [sessionId]);
    return rows.map(toMessage);
  }

  /**
   * The session as a conversation to send a provider again (the OpenAI chat format, so its keys are
   * the wire format's). Recalled `<memory-context>` blocks are stripped from content; reasoning
   * fields ride on assistant messages only (an empty `reasoning` is absent, an empty
   * `reasoning_content` is kept). `includeAncestors`: the parent chain's messages first, root first,
   * with a user prompt repeated back to back (a resume) kept once.
   */
  async getMessagesAsConversation(sessionId: string, options: { includeAncestors?: boolean } = {}): Promise<ConversationMessage[]> {
    const chain = options.includeAncestors === true ? await this.#ancestry(sessionId) : [sessionId];
    const out: ConversationMessage[] = [];
    for (const id of chain) {
      const rows = await this.queue.all<Row>(
        `SELECT role, content, tool_call_id, tool_calls, tool_name, reasoning, reasoning_content, reasoning_details,
                codex_reasoning_items, codex_message_items
           FROM messages WHERE session_id = ? ORDER BY timestamp, id`,
        [id],
      );
      for (const r of rows) {
        const msg = toConversationMessage(r);
        const previous = out[out.length - 1];
        if (options.includeAncestors === true && msg.role === 'user' && previous?.role === 'user' && previous.content === msg.content) continue;
        out.push(msg);
      }
    }
    return out;
  }

  /** The session's ids from its root ancestor down to itself. */
  async #ancestry(sessionId: string): Promise<string[]> {
    const rows = await this.queue.all<{ id: string }>(
      `WITH RECURSIVE up(id, parent, depth) AS (
         SELECT id, parent_session_id, 0 FROM sessions WHERE id = ?
         UNION ALL
         SELECT s.id, s.parent_session_id, up.depth + 1 FROM sessions s JOIN up ON s.id = up.parent WHERE up.depth < 1000
       )
       SELECT id FROM up ORDER BY depth DESC`,
      [sessionId],
    );
    return rows.length === 0 ? [sessionId] : rows.map((r) => r.id);
  }

  /** Deletes the session's messages and resets its counters; resolves with how many went. */
  clearMessages(sessionId: string): Promise<number> {
    return this.queue.call('clearMessages', { sessionId });
  }

  // ── Search and listing ──────────────────────────────────────────────────────────────────────

  /**
   * Full-text search over messages' content, tool calls and tool names, best matches first. The
   * query keeps `"phrases"`, `AND`/`OR`/`NOT` and `prefix*`, and any other text is made safe
   * (`sanitizeFts5Query`). Chinese, Japanese and Korean queries also run a substring search (the
   * trigram index for terms of 3+ characters, LIKE for any length) and merge it in, without
   * duplicates. Each hit carries its session's source and model and the messages around it.
   */
  async searchMessages(query: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    if (query.trim() === '') return [];
    const limit = options.limit ?? 20;
    const offset = options.offset ?? 0;
    const filters = searchFilters(options);
    let hits: Row[] = [];
    if (!containsCjk(query)) {
      const match = sanitizeFts5Query(query);
      if (match !== '') hits = await this.#ftsSearch('messages_fts', match, filters, limit, offset);
    } else {
      // unicode61 keeps a run of CJK text as one token, so words inside it are not found: the
      // trigram index finds substrings of 3+ characters, and LIKE any length. Both are merged
      // (trigram hits first, no duplicates) before the page is cut, so pages neither repeat nor skip.
      const trigram = trigramQuery(query);
      const upTo = offset + limit;
      if (trigram.shortest >= 3) hits = await this.#ftsSearch('messages_fts_trigram', trigram.match, filters, upTo, 0);
      const seen = new Set(hits.map((h) => h.id));
      for (const h of await this.#likeSearch(query.trim(), filters, upTo, 0)) if (!seen.has(h.id)) hits.push(h);
      hits = hits.slice(offset, upTo);
    }
    return Promise.all(hits.map(async (h) => ({ ...toHit(h), context: await this.#context(h.session_id as string, h.id as number) })));
  }

  async #ftsSearch(table: string, match: string, filters: { sql: string; params: BindValue[] }, limit: number, offset: number): Promise<Row[]> {
    try {
      return await this.queue.all<Row>(
        `SELECT m.id, m.session_id, m.role, snippet(${table}, -1, '>>>', '<<<', '...', 40) AS snippet, m.timestamp,
                m.tool_name, s.source, s.model, s.started_at AS session_started
           FROM ${table} JOIN messages m ON m.id = ${table}.rowid JOIN sessions s ON s.id = m.session_id
          WHERE ${table} MATCH ?${filters.sql}
          ORDER BY rank LIMIT ? OFFSET ?`,
        [match, ...filters.params, limit, offset],
      );
    } catch (err) {
      // What the sanitizer lets through is valid FTS5; should SQLite still refuse it, no hits.
      if (/fts5/i.test((err as Error).message)) return [];
      throw err;
    }
  }

  async #likeSearch(text: string, filters: { sql: string; params: BindValue[] }, limit: number, offset: number): Promise<Row[]> {
    const pattern = `%${escapeLike(text)}%`;
    const rows = await this.queue.all<Row>(
      `SELECT m.id, m.session_id, m.role, m.content, m.tool_calls, m.timestamp, m.tool_name, s.source, s.model, s.started_at AS session_started
         FROM messages m JOIN sessions s ON s.id = m.session_id
        WHERE (m.content LIKE ? ESCAPE '\\' OR m.tool_name LIKE ? ESCAPE '\\' OR m.tool_calls LIKE ? ESCAPE '\\')${filters.sql}
        ORDER BY m.timestamp DESC, m.id DESC LIMIT ? OFFSET ?`,
      [pattern, pattern, pattern, ...filters.params, limit, offset],
    );
    for (const r of rows) {
      // The snippet comes from the column that holds the match, centred on it.
      const column = [r.content, r.tool_name, r.tool_calls].find((v) => typeof v === 'string' && v.toLowerCase().includes(text.toLowerCase())) as string | undefined;
      r.snippet = column === undefined ? '' : centred(column, text);
      delete r.content;
      delete r.tool_calls;
    }
    return rows;
  }

  async #context(sessionId: string, id: number): Promise<Array<{ role: string; content: string }>> {
    const rows = await this.queue.all<{ role: string; content: string | null }>(
      `SELECT role, content FROM messages
        WHERE session_id = ?
          AND id >= COALESCE((SELECT max(id) FROM messages WHERE session_id = ? AND id < ?), ?)
          AND id <= COALESCE((SELECT min(id) FROM messages WHERE session_id = ? AND id > ?), ?)
        ORDER BY id`,
      [sessionId, sessionId, id, id, sessionId, id, id],
    );
    return rows.map((r) => ({ role: r.role, content: (r.content ?? '').slice(0, 200) }));
  }

  /** Sessions, newest first, optionally of one source. */
  async searchSessions(options: { source?: string | null; limit?: number; offset?: number } = {}): Promise<Session[]> {
    const bySource = options.source === undefined || options.source === null ? '' : 'WHERE source = ?';
    const params: BindValue[] = bySource === '' ? [] : [options.source!];
    const rows = await this.queue.all<Row>(`SELECT * FROM sessions ${bySource} ORDER BY started_at DESC LIMIT ? OFFSET ?`, [...params, options.limit ?? 20, options.offset ?? 0]);
    return rows.map(toSession);
  }

  /**
   * Sessions for a picker, newest first, with a preview (the first user message) and the last
   * activity. Only top-level conversations: a child session shows only when its parent ended
   * `branched` (sub-agents and compression continuations stay hidden). With
   * `projectCompressionTips` (default), a compressed conversation shows as its live tip — the tip's
   * fields, the root's start, and `lineageRootId`.
   */
  async listSessionsRich(
    options: { source?: string | null; excludeSources?: readonly string[] | null; limit?: number; offset?: number; projectCompressionTips?: boolean } = {},
  ): Promise<RichSession[]> {
    const visible = "(s.parent_session_id IS NULL OR EXISTS (SELECT 1 FROM sessions p WHERE p.id = s.parent_session_id AND p.end_reason = 'branched'))";
    const bySource = options.source === undefined || options.source === null ? null : [options.source];
    const filters = searchFilters({ sourceFilter: bySource, excludeSources: options.excludeSources ?? null });
    const rows = await this.queue.all<Row>(`${RICH_SELECT} WHERE ${visible}${filters.sql} ORDER BY s.started_at DESC LIMIT ? OFFSET ?`, [
      ...filters.params,
      options.limit ?? 20,
      options.offset ?? 0,
    ]);
    const sessions = rows.map(toRichSession);
    if (options.projectCompressionTips === false) return sessions;
    return Promise.all(
      sessions.map(async (root) => {
        if (root.endReason !== 'compression') return root;
        const tipId = await this.getCompressionTip(root.id);
        if (tipId === root.id) return root;
        const tip = await this.queue.get<Row>(`${RICH_SELECT} WHERE s.id = ?`, [tipId]);
        return tip === undefined ? root : { ...toRichSession(tip), startedAt: root.startedAt, lineageRootId: root.id };
      }),
    );
  }

  /**
   * The live end of a compression chain: from a session that ended `compression`, its continuation
   * (the first child started at or after that end; a sub-agent started before it is not one), and so
   * on. A session that was not compressed is its own tip.
   */
  async getCompressionTip(id: string): Promise<string> {
    const row = await this.queue.get<{ id: string }>(
      `WITH RECURSIVE chain(id, depth) AS (
         SELECT ?, 0
         UNION ALL
         SELECT (SELECT c.id FROM sessions c WHERE c.parent_session_id = p.id AND c.started_at >= p.ended_at ORDER BY c.started_at, c.id LIMIT 1),
                chain.depth + 1
           FROM chain JOIN sessions p ON p.id = chain.id
          WHERE p.end_reason = 'compression' AND p.ended_at IS NOT NULL AND chain.depth < 1000
       )
       SELECT id FROM chain WHERE id IS NOT NULL ORDER BY depth DESC LIMIT 1`,
      [id],
    );
    return row?.id ?? id;
  }

  // ── Counts, export, deletion ────────────────────────────────────────────────────────────────

  async sessionCount(source?: string | null): Promise<number> {
    const row = source === undefined || source === null
      ? await this.queue.get<{ n: number }>('SELECT COUNT(*) AS n FROM sessions')
      : await this.queue.get<{ n: number }>('SELECT COUNT(*) AS n FROM sessions WHERE source = ?', [source]);
    return row!.n;
  }

  async messageCount(sessionId?: string | null): Promise<number> {
    const row = sessionId === undefined || sessionId === null
      ? await this.queue.get<{ n: number }>('SELECT COUNT(*) AS n FROM messages')
      : await this.queue.get<{ n: number }>('SELECT COUNT(*) AS n FROM messages WHERE session_id = ?', [sessionId]);
    return row!.n;
  }

  /** The session with all its messages, or null. */
  async exportSession(id: string): Promise<SessionExport | null> {
    const session = await this.getSession(id);
    return session === null ? null : { ...session, messages: await this.getMessages(id) };
  }

  /** Every session (optionally of one source), oldest first, each with its messages. */
  async exportAll(options: { source?: string | null } = {}): Promise<SessionExport[]> {
    const bySource = options.source === undefined || options.source === null ? '' : 'WHERE source = ?';
    const rows = await this.queue.all<Row>(`SELECT * FROM sessions ${bySource} ORDER BY started_at, id`, bySource === '' ? [] : [options.source!]);
    return Promise.all(rows.map(async (r) => ({ ...toSession(r), messages: await this.getMessages(r.id as string) })));
  }

  /** Deletes a session and its messages, in one transaction; its children stay, without a parent. Resolves true if it existed. */
  deleteSession(id: string): Promise<boolean> {
    return this.queue.call('deleteSession', { id });
  }

  /**
   * Deletes ended sessions that started more than `olderThanDays` days ago (optionally of one
   * source), with their messages; newer children lose their parent. With `sessionsDir`, each pruned
   * session's transcript files there go too (`<id>.json`, `<id>.jsonl`, `request_dump_<id>_*.json`).
   * Resolves with how many sessions went.
   */
  async pruneSessions(olderThanDays: number, options: { source?: string | null; sessionsDir?: string | null } = {}): Promise<number> {
    const ids = await this.queue.call<string[]>('pruneSessions', { olderThanDays, source: options.source ?? null });
    if (options.sessionsDir !== undefined && options.sessionsDir !== null) await deleteTranscripts(options.sessionsDir, ids);
    return ids.length;
  }

  // ── State meta and maintenance ──────────────────────────────────────────────────────────────

  async getMeta(key: string): Promise<string | null> {
    const row = await this.queue.get<{ value: string | null }>('SELECT value FROM state_meta WHERE key = ?', [key]);
    return row?.value ?? null;
  }

  setMeta(key: string, value: string | null): Promise<void> {
    return this.queue.call('setMeta', { key, value });
  }

  /**
   * Rebuilds the file to reclaim space, on a connection of its own in a thread of its own, never
   * inside a batch transaction: queued writes commit first, and writes queued meanwhile wait for the
   * write lock VACUUM holds (the writer retries with jitter, up to the queue's `busyDeadlineMs`).
   */
  async vacuum(): Promise<void> {
    await this.queue.flush();
    await vacuumFile(this.#path);
  }

  /**
   * Prunes (`retentionDays`) and, if anything was pruned and `vacuum` is on, vacuums — at most once
   * per `minIntervalHours` across every process on the file (the `last_auto_prune` key). A VACUUM
   * that fails is reported in `error`; the prune stands.
   */
  async maybeAutoPruneAndVacuum(
    options: { retentionDays?: number; minIntervalHours?: number; vacuum?: boolean; sessionsDir?: string | null } = {},
  ): Promise<MaintenanceResult> {
    const { skipped, pruned } = await this.queue.call<{ skipped: boolean; pruned: string[] }>('autoPrune', {
      retentionDays: options.retentionDays ?? 90,
      minIntervalHours: options.minIntervalHours ?? 24,
    });
    if (skipped) return { skipped: true, pruned: 0, vacuumed: false };
    if (options.sessionsDir !== undefined && options.sessionsDir !== null) await deleteTranscripts(options.sessionsDir, pruned);
    if (pruned.length === 0 || options.vacuum === false) return { skipped: false, pruned: pruned.length, vacuumed: false };
    try {
      await this.vacuum();
      return { skipped: false, pruned: pruned.length, vacuumed: true };
    } catch (err) {
      return { skipped: false, pruned: pruned.length, vacuumed: false, error: (err as Error).message };
    }
  }

  /** Commits everything queued, checkpoints, and closes. */
  close(): Promise<void> {
    return this.queue.close();
  }
}

const RICH_SELECT = `
  SELECT s.*,
         COALESCE((SELECT substr(m.content, 1, 200) FROM messages m
                    WHERE m.session_id = s.id AND m.role = 'user' AND m.content IS NOT NULL
                    ORDER BY m.timestamp, m.id LIMIT 1), '') AS preview_raw,
         COALESCE((SELECT MAX(m.timestamp) FROM messages m WHERE m.session_id = s.id), s.started_at) AS last_active
    FROM sessions s`;

function searchFilters(o: SearchOptions): { sql: string; params: BindValue[] } {
  let sql = '';
  const params: BindValue[] = [];
  const list = (values: readonly string[]): string => values.map(() => '?').join(', ');
  if (o.sourceFilter !== undefined && o.sourceFilter !== null) {
    sql += ` AND s.source IN (${list(o.sourceFilter)})`;
    params.push(...o.sourceFilter);
  }
  if (o.excludeSources !== undefined && o.excludeSources !== null && o.excludeSources.length > 0) {
    sql += ` AND s.source NOT IN (${list(o.excludeSources)})`;
    params.push(...o.excludeSources);
  }
  if (o.roleFilter !== undefined && o.roleFilter !== null && o.roleFilter.length > 0) {
    sql += ` AND m.role IN (${list(o.roleFilter)})`;
    params.push(...o.roleFilter);
  }
  return { sql, params };
}

/** ~40 characters either side of the first (case-insensitive) occurrence of `needle`. */
function centred(text: string, needle: string): string {
  const at = text.toLowerCase().indexOf(needle.toLowerCase());
  const start = Math.max(0, at - 40);
  return text.slice(start, at + needle.length + 40);
}

async function deleteTranscripts(dir: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const gone = new Set(ids);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const name of names) {
    const m = /^(?:request_dump_(.+)_[^_]*\.json|(.+)\.jsonl?)$/.exec(name);
    const id = m?.[1] ?? m?.[2];
    if (id !== undefined && gone.has(id)) await unlink(join(dir, name)).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
  }
}

/** Column names to field names (`tool_call_id` → `toolCallId`). */
function camelize(row: Row): Row {
  const out: Row = {};
  for (const [key, value] of Object.entries(row)) out[key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] = value;
  return out;
}

/** JSON text back to a value; text that is not JSON stays text (as the original store does). */
function parseJson(text: unknown): unknown {
  if (text === null || text === undefined || text === '') return null;
  try {
    return JSON.parse(text as string) as unknown;
  } catch {
    return text;
  }
}

function toSession(r: Row): Session {
  return { ...camelize(r), modelConfig: parseJson(r.model_config) } as Session;
}

function toRichSession(r: Row): RichSession {
  const { preview_raw: raw, last_active: lastActive, ...rest } = r;
  const flat = String(raw ?? '').replace(/[\r\n]+/g, ' ').trim();
  const preview = flat.length > 60 ? `${flat.slice(0, 60)}...` : flat;
  return { ...toSession(rest), preview, lastActive: lastActive as number };
}

function toMessage(r: Row): Message {
  return {
    ...camelize(r),
    toolCalls: parseJson(r.tool_calls),
    reasoningDetails: parseJson(r.reasoning_details),
    codexReasoningItems: parseJson(r.codex_reasoning_items),
    codexMessageItems: parseJson(r.codex_message_items),
  } as Message;
}

function toConversationMessage(r: Row): ConversationMessage {
  const content = typeof r.content === 'string' ? stripMemoryContext(r.content) : null;
  const msg: ConversationMessage = { role: r.role as string, content };
  if (r.tool_call_id) msg.tool_call_id = r.tool_call_id as string;
  if (r.tool_name) msg.tool_name = r.tool_name as string;
  if (r.tool_calls) msg.tool_calls = parseJson(r.tool_calls) as unknown[];
  if (r.role === 'assistant') {
    if (r.reasoning) msg.reasoning = r.reasoning as string;
    if (r.reasoning_content !== null && r.reasoning_content !== undefined) msg.reasoning_content = r.reasoning_content as string;
    if (r.reasoning_details) msg.reasoning_details = parseJson(r.reasoning_details);
    if (r.codex_reasoning_items) msg.codex_reasoning_items = parseJson(r.codex_reasoning_items);
    if (r.codex_message_items) msg.codex_message_items = parseJson(r.codex_message_items);
  }
  return msg;
}

function toHit(r: Row): Omit<SearchHit, 'context'> {
  return {
    id: r.id as number,
    sessionId: r.session_id as string,
    role: r.role as string,
    snippet: (r.snippet as string | null) ?? '',
    timestamp: r.timestamp as number,
    toolName: (r.tool_name as string | null) ?? null,
    source: r.source as string,
    model: (r.model as string | null) ?? null,
    sessionStarted: r.session_started as number,
  };
}
