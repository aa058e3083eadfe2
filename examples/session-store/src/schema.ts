/** The schema version this store writes; older files are migrated when a store opens them. */
export const SCHEMA_VERSION = 11;

/** The version whose full-text indexes cover `FTS_COLUMNS`; older files have theirs rebuilt. */
export const FTS_COLUMNS_SINCE = 11;

/**
 * The tables, as they should be. Every column declared here is added to an older file that lacks
 * it (`parseSchemaColumns` + the `migrate` procedure), whatever its recorded version says.
 */
export const TABLES_SQL = `
CREATE TABLE IF NOT EXISTS schema_version (
  version INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  user_id TEXT,
  model TEXT,
  model_config TEXT,
  system_prompt TEXT,
  parent_session_id TEXT,
  started_at REAL NOT NULL,
  ended_at REAL,
  end_reason TEXT,
  message_count INTEGER DEFAULT 0,
  tool_call_count INTEGER DEFAULT 0,
  input_tokens INTEGER DEFAULT 0,
  output_tokens INTEGER DEFAULT 0,
  cache_read_tokens INTEGER DEFAULT 0,
  cache_write_tokens INTEGER DEFAULT 0,
  title TEXT,
  api_call_count INTEGER DEFAULT 0,
  FOREIGN KEY (parent_session_id) REFERENCES sessions(id)
);

CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT NOT NULL REFERENCES sessions(id),
  role TEXT NOT NULL,
  content TEXT,
  tool_call_id TEXT,
  tool_calls TEXT,
  tool_name TEXT,
  timestamp REAL NOT NULL,
  token_count INTEGER,
  finish_reason TEXT,
  reasoning TEXT,
  reasoning_content TEXT,
  reasoning_details TEXT,
  codex_reasoning_items TEXT,
  codex_message_items TEXT
);

CREATE TABLE IF NOT EXISTS state_meta (
  key TEXT PRIMARY KEY,
  value TEXT
);
`;

/** Indexes; created after the columns they use exist. */
export const INDEXES_SQL = `
CREATE INDEX IF NOT EXISTS idx_sessions_source ON sessions(source);
CREATE INDEX IF NOT EXISTS idx_sessions_parent ON sessions(parent_session_id);
CREATE INDEX IF NOT EXISTS idx_sessions_started ON sessions(started_at DESC);
CREATE UNIQUE INDEX IF NOT EXISTS idx_sessions_title_unique ON sessions(title) WHERE title IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_messages_session ON messages(session_id, timestamp);
`;

/** What the full-text indexes cover: the content, the tool calls' JSON, the tool's name. */
export const FTS_COLUMNS = ['content', 'tool_calls', 'tool_name'] as const;

/**
 * Two external-content FTS5 indexes over messages: unicode61 (words) and trigram (substrings, for
 * Chinese, Japanese and Korean text, which unicode61 keeps as one token per run), kept current by
 * triggers.
 */
export const FTS_SQL = `
CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5(
  content, tool_calls, tool_name, content=messages, content_rowid=id
);
CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts_trigram USING fts5(
  content, tool_calls, tool_name, content=messages, content_rowid=id, tokenize='trigram'
);
CREATE TRIGGER IF NOT EXISTS messages_fts_insert AFTER INSERT ON messages BEGIN
  INSERT INTO messages_fts(rowid, content, tool_calls, tool_name) VALUES (new.id, new.content, new.tool_calls, new.tool_name);
  INSERT INTO messages_fts_trigram(rowid, content, tool_calls, tool_name) VALUES (new.id, new.content, new.tool_calls, new.tool_name);
END;
CREATE TRIGGER IF NOT EXISTS messages_fts_delete AFTER DELETE ON messages BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, content, tool_calls, tool_name) VALUES ('delete', old.id, old.content, old.tool_calls, old.tool_name);
  INSERT INTO messages_fts_trigram(messages_fts_trigram, rowid, content, tool_calls, tool_name) VALUES ('delete', old.id, old.content, old.tool_calls, old.tool_name);
END;
CREATE TRIGGER IF NOT EXISTS messages_fts_update AFTER UPDATE ON messages BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, content, tool_calls, tool_name) VALUES ('delete', old.id, old.content, old.tool_calls, old.tool_name);
  INSERT INTO messages_fts_trigram(messages_fts_trigram, rowid, content, tool_calls, tool_name) VALUES ('delete', old.id, old.content, old.tool_calls, old.tool_name);
  INSERT INTO messages_fts(rowid, content, tool_calls, tool_name) VALUES (new.id, new.content, new.tool_calls, new.tool_name);
  INSERT INTO messages_fts_trigram(rowid, content, tool_calls, tool_name) VALUES (new.id, new.content, new.tool_calls, new.tool_name);
END;
`;

/**
 * The whole schema for a new, empty file (`db.exec(SESSION_SCHEMA)`), at `SCHEMA_VERSION`. A store
 * opening a file runs the `migrate` procedure instead, which also upgrades older files.
 */
export const SESSION_SCHEMA = `${TABLES_SQL}${INDEXES_SQL}${FTS_SQL}
INSERT INTO schema_version (version) SELECT ${SCHEMA_VERSION} WHERE NOT EXISTS (SELECT 1 FROM schema_version);
`;

/** A column as declared: its name and the rest of its definition (type, default). */
export interface DeclaredColumn {
  readonly name: string;
  readonly definition: string;
}

/** The columns each `CREATE TABLE` in `sql` declares, by table. */
export function parseSchemaColumns(sql: string): Map<string, DeclaredColumn[]> {
  const tables = new Map<string, DeclaredColumn[]>();
  for (const m of sql.matchAll(/CREATE TABLE IF NOT EXISTS (\w+)\s*\(([\s\S]*?)\n\);/g)) {
    const columns: DeclaredColumn[] = [];
    for (const line of m[2]!.split('\n')) {
      const def = line.trim().replace(/,$/, '');
      if (def === '' || /^(FOREIGN|PRIMARY|UNIQUE|CHECK|CONSTRAINT)\b/i.test(def)) continue;
      const [name, ...rest] = def.split(/\s+/);
      columns.push({ name: name!, definition: rest.join(' ') });
    }
    tables.set(m[1]!, columns);
  }
  return tables;
}
