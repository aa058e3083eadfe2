// The gateway: every request is persisted through litescribe — messages on POST /messages, and one
// audit row per request answered (its method, route, status and duration), written after the reply.
import Fastify from 'fastify';
import { litescribe } from '@litescribe/fastify';

export const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS messages (
     id INTEGER PRIMARY KEY, session_id TEXT NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL, created_at INTEGER NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS messages_session ON messages (session_id, id)',
  `CREATE TABLE IF NOT EXISTS audit (
     id INTEGER PRIMARY KEY, at INTEGER NOT NULL, method TEXT NOT NULL, route TEXT NOT NULL, status INTEGER NOT NULL, ms REAL NOT NULL)`,
];

const messageBody = {
  type: 'object',
  required: ['sessionId', 'role', 'content'],
  additionalProperties: false,
  properties: {
    sessionId: { type: 'string', minLength: 1, maxLength: 200 },
    role: { type: 'string', enum: ['user', 'assistant', 'system', 'tool'] },
    content: { type: 'string', maxLength: 100_000 },
  },
};

/**
 * Builds the app on the database at `path` (extra options go to the queue). `mode` is for the
 * bench's comparison: `'litescribe'` (the point of this example), or the same app on
 * better-sqlite3 inline (`'inline'`) or node-sqlite3 (`'sqlite3'`), see stores.mjs.
 */
export async function buildApp({ path, logger = false, mode = 'litescribe', ...queueOptions }) {
  if (!['litescribe', 'inline', 'sqlite3'].includes(mode)) throw new Error(`unknown gateway mode ${JSON.stringify(mode)}: expected litescribe, inline or sqlite3`);
  const app = Fastify({ logger });
  if (mode === 'litescribe') {
    await app.register(litescribe, { path, setup: SCHEMA, ...queueOptions });
  } else {
    const { inlineStore, sqlite3Store } = await import('./stores.mjs');
    const store = await (mode === 'inline' ? inlineStore : sqlite3Store)(path, queueOptions.synchronous ?? 'normal');
    await store.setup(SCHEMA);
    // The same two calls the routes use, so the routes are the same code in every mode.
    app.decorate('litescribe', { run: store.run, all: store.all, stats: () => ({ role: mode, queueDepth: 0, recentCommitLatencyMs: { p99: 0 } }) });
    app.addHook('onClose', () => store.close());
  }

  // The audit row of every request, written once the reply has gone: it never delays a reply, and
  // app.close() (SIGTERM) still commits it — the queue drains everything it accepted.
  app.addHook('onResponse', async (request, reply) => {
    if (request.routeOptions.url === '/health') return;
    app.litescribe
      .run('INSERT INTO audit (at, method, route, status, ms) VALUES (?, ?, ?, ?, ?)', [Date.now(), request.method, request.routeOptions.url ?? request.url, reply.statusCode, reply.elapsedTime])
      .catch((err) => request.log.error({ err }, 'audit row not written'));
  });

  // Acknowledged (201) only once the row has committed.
  app.post('/messages', { schema: { body: messageBody } }, async (request, reply) => {
    const { sessionId, role, content } = request.body;
    const { lastInsertRowid } = await app.litescribe.run('INSERT INTO messages (session_id, role, content, created_at) VALUES (?, ?, ?, ?)', [sessionId, role, content, Date.now()]);
    return reply.code(201).send({ id: Number(lastInsertRowid) });
  });

  app.get('/messages', async (request) => {
    const { sessionId, after = '0', limit = '100' } = request.query;
    return app.litescribe.all('SELECT id, role, content, created_at AS createdAt FROM messages WHERE session_id = ? AND id > ? ORDER BY id LIMIT ?', [
      String(sessionId ?? ''),
      Number(after) || 0,
      Math.min(1000, Number(limit) || 100),
    ]);
  });

  // Liveness and the queue's figures; never touches the database.
  app.get('/health', async () => {
    const s = app.litescribe.stats();
    return { ok: true, role: s.role, queueDepth: s.queueDepth, recentP99Ms: s.recentCommitLatencyMs.p99 };
  });
  return app;
}
