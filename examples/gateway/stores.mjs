// What the gateway is compared with in the bench (`npm run bench -- --only gateway`): the same app
// on better-sqlite3 called inline on the main thread, and on node-sqlite3 (statements on libuv's
// thread pool, a commit per statement). Each gives the app the `run`/`all` it uses.

/** better-sqlite3 inline: every statement runs (and commits) on the server's main thread. */
export async function inlineStore(path, synchronous) {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('busy_timeout = 5000');
  const statements = new Map();
  const prepared = (sql) => {
    let stmt = statements.get(sql);
    if (stmt === undefined) statements.set(sql, (stmt = db.prepare(sql)));
    return stmt;
  };
  return {
    setup: (sqls) => sqls.forEach((sql) => db.exec(sql)),
    run: async (sql, params) => prepared(sql).run(...params),
    all: async (sql, params) => prepared(sql).all(...params),
    close: async () => db.close(),
  };
}

/** node-sqlite3: asynchronous, each statement its own commit, run on libuv's thread pool. */
export async function sqlite3Store(path, synchronous) {
  const { default: sqlite3 } = await import('sqlite3');
  const db = new sqlite3.Database(path);
  const exec = (sql) => new Promise((resolve, reject) => db.exec(sql, (err) => (err ? reject(err) : resolve())));
  await exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${synchronous}; PRAGMA busy_timeout = 5000;`);
  return {
    setup: async (sqls) => {
      for (const sql of sqls) await exec(sql);
    },
    run: (sql, params) =>
      new Promise((resolve, reject) =>
        db.run(sql, params, function done(err) {
          if (err) reject(err);
          else resolve({ changes: this.changes, lastInsertRowid: this.lastID });
        }),
      ),
    all: (sql, params) => new Promise((resolve, reject) => db.all(sql, params, (err, rows) => (err ? reject(err) : resolve(rows)))),
    close: () => new Promise((resolve) => db.close(() => resolve())),
  };
}
