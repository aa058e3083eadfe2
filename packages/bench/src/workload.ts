import Database from 'better-sqlite3';
/**
 * The rows every suite writes: one message of an agent's transcript, about 200 bytes, the same
 * shape throughout so figures compare.
 */
export const SCHEMA = `
  CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    timestamp REAL NOT NULL
  );
  CREATE INDEX IF NOT EXISTS idx_messages_session ON messages(session_id, timestamp);`;

export const INSERT_SQL = 'INSERT INTO messages(session_id, role, content, timestamp) VALUES (?, ?, ?, ?)';

const WORDS = 'the agent read the file and proposed a patch to fix the failing test then ran the suite again'.split(' ');

/** Parameters for message number `i`: ~200 bytes of row data. */
export function messageParams(i: number, session = `sess-${i % 64}`): [string, string, string, number] {
  let content = '';
  for (let w = i; content.length < 160; w = (w * 31 + 7) % 997) content += `${WORDS[w % WORDS.length]} `;
  return [session, i % 3 === 0 ? 'assistant' : 'user', content, Date.now() / 1000];
}

const POOL = Array.from({ length: 4096 }, (_, i) => messageParams(i));

/**
 * Pre-built parameters for message `i` (a pool of 4096 distinct rows), so that building rows costs
 * the same nothing for every strategy and the figures measure writing, not string building.
 */
export function pooledParams(i: number): [string, string, string, number] {
  return POOL[i & 4095]!;
}

/** better-sqlite3 on the main thread as people use it today: WAL, the given `synchronous`, the schema. */
export function openRawDatabase(path: string, sync: 'normal' | 'full'): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sync}`);
  db.exec(SCHEMA);
  return db;
}
