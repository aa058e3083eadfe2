import { openWriteQueue } from '@litescribe/core';
import type { WriteQueue, WriteQueueOptions } from '@litescribe/core';
import { SESSION_SCHEMA } from './schema.js';
import type { Message, NewMessage, NewSession, SearchHit, Session, TokenCounts } from './types.js';

const PROCEDURES = new URL('./procedures.js', import.meta.url);

type Row = Record<string, unknown>;

/**
 * An agent tool's session store on litescribe. Writes are procedures run by the writer thread
 * (each one atomic, group-committed with whatever else is queued); reads go to the reader pool.
 * Several processes may open stores on the same file at once.
 */
export class SessionStore {
  /** The underlying queue, for anything the store does not wrap. */
  readonly queue: WriteQueue;

  private constructor(queue: WriteQueue) {
    this.queue = queue;
  }

  /** Opens (and if needed creates) the store at `path`. Extra queue options pass through. */
  static async open(path: string, options: Omit<WriteQueueOptions, 'path' | 'setup' | 'procedures'> = {}): Promise<SessionStore> {
    return new SessionStore(await openWriteQueue({ ...options, path, setup: SESSION_SCHEMA, procedures: PROCEDURES }));
  }

  /** Creates a session (insert-or-ignore). Resolves true if it was created, false if it existed. */
  createSession(session: NewSession): Promise<boolean> {
    return this.queue.call('createSession', session);
  }

  /** Creates the session with `source` if it does not exist yet. */
  ensureSession(id: string, source: string): Promise<boolean> {
    return this.queue.call('ensureSession', { id, source });
  }

  endSession(id: string, reason: string): Promise<void> {
    return this.queue.call('endSession', { id, reason });
  }

  reopenSession(id: string): Promise<void> {
    return this.queue.call('reopenSession', { id });
  }

  updateSystemPrompt(id: string, systemPrompt: string): Promise<void> {
    return this.queue.call('updateSystemPrompt', { id, systemPrompt });
  }

  /** Adds to the token counters; a `model` is backfilled only into a session without one. */
  updateTokenCounts(id: string, counts: TokenCounts): Promise<void> {
    return this.queue.call('updateTokenCounts', { id, counts });
  }

  /** Sets the given counters to exactly these values. */
  setTokenCounts(id: string, counts: TokenCounts): Promise<void> {
    return this.queue.call('setTokenCounts', { id, counts });
  }

  /** Sets the title (trimmed; empty clears it). Rejects, naming the other session, if the title is taken. */
  setTitle(id: string, title: string | null): Promise<string | null> {
    return this.queue.call('setTitle', { id, title });
  }

  /** Appends a message, bumping message_count and tool_call_count. Resolves with the message id. */
  appendMessage(sessionId: string, message: NewMessage): Promise<number> {
    return this.queue.call('appendMessage', { sessionId, message });
  }

  /** Deletes the session's messages and resets its counters; resolves with how many went. */
  clearMessages(sessionId: string): Promise<number> {
    return this.queue.call('clearMessages', { sessionId });
  }

  /** Deletes a session and its messages; resolves true if it existed. */
  deleteSession(id: string): Promise<boolean> {
    return this.queue.call('deleteSession', { id });
  }

  /** Deletes sessions that ended more than `olderThanDays` days ago (optionally of one source); resolves with how many. */
  pruneSessions(olderThanDays: number, source?: string): Promise<number> {
    return this.queue.call('pruneSessions', source === undefined ? { olderThanDays } : { olderThanDays, source });
  }

  async getSession(id: string): Promise<Session | undefined> {
    const row = await this.queue.get<Row>('SELECT * FROM sessions WHERE id = ?', [id]);
    return row === undefined ? undefined : toSession(row);
  }

  async getTitle(id: string): Promise<string | null | undefined> {
    const row = await this.queue.get<{ title: string | null }>('SELECT title FROM sessions WHERE id = ?', [id]);
    return row?.title;
  }

  /** The session's messages in the order they were appended; tool_calls parsed back from JSON. */
  async getMessages(sessionId: string): Promise<Message[]> {
    const rows = await this.queue.all<Row>('SELECT * FROM messages WHERE session_id = ? ORDER BY id', [sessionId]);
    return rows.map(toMessage);
  }

  /**
   * Full-text search over message content, best matches first. Each word of `query` must appear
   * (words are quoted, so `-`, `:` or `*` in user text are not FTS5 operators); pass `raw: true` to
   * use FTS5 query syntax as is.
   */
  async searchMessages(query: string, options: { limit?: number; sessionId?: string; raw?: boolean } = {}): Promise<SearchHit[]> {
    const limit = options.limit ?? 20;
    const match = options.raw === true ? query : quoteTerms(query);
    if (match === '') return [];
    const bySession = options.sessionId === undefined ? '' : 'AND m.session_id = ?';
    const params = options.sessionId === undefined ? [match, limit] : [match, options.sessionId, limit];
    return this.queue.all<SearchHit>(
      `SELECT m.id AS id, m.session_id AS sessionId, m.role AS role, m.timestamp AS timestamp,
              snippet(messages_fts, 0, '[', ']', '…', 12) AS snippet
         FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid
        WHERE messages_fts MATCH ? ${bySession}
        ORDER BY rank LIMIT ?`,
      params,
    );
  }

  /** Commits everything queued, checkpoints, and closes. */
  close(): Promise<void> {
    return this.queue.close();
  }
}

/** Turns user text into an FTS5 query in which every word is a plain term: `"flaky" "test"`. */
function quoteTerms(text: string): string {
  return text
    .split(/\s+/)
    .filter((w) => w !== '')
    .map((w) => `"${w.replace(/"/g, '""')}"`)
    .join(' ');
}

/** Column names to field names (`tool_call_id` → `toolCallId`); JSON columns are parsed by the callers below. */
function camelize(row: Row): Row {
  const out: Row = {};
  for (const [key, value] of Object.entries(row)) out[key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] = value;
  return out;
}

const parseJson = (text: unknown): unknown => (text === null ? null : (JSON.parse(text as string) as unknown));

function toSession(r: Row): Session {
  return { ...camelize(r), modelConfig: parseJson(r.model_config) } as Session;
}

function toMessage(r: Row): Message {
  return { ...camelize(r), toolCalls: parseJson(r.tool_calls) } as Message;
}
