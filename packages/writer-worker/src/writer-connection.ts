import { fstatSync, ftruncateSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Database as DatabaseHandle, Statement } from 'better-sqlite3';
import { retryWhileBusy } from './busy-retry.js';
import type { BusyRetryPolicy } from './busy-retry.js';
import { WriterErrorCode } from './protocol.js';
import type { WriterConfig } from './protocol.js';
import { createPrivateFile } from './share/share-address.js';
import { isWalResetBugAffected } from './sqlite-version-gate.js';
import { StatementCache } from './statement-cache.js';
import { loadProcedures } from './load-procedures.js';

/** A procedure: a named export of the procedures module, run inside the batch transaction. */
export type Procedure = (db: DatabaseHandle, args: unknown) => unknown;

/** An error with one of litescribe's codes, raised inside the writer. */
export class WriterError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/**
 * The writer thread's only connection, opened the way the queue promises: WAL, the chosen
 * `synchronous`, SQLite's own busy handler and autocheckpoint off (the writer retries and
 * checkpoints itself), `journal_size_limit` at the WAL target size.
 */
export class WriterConnection {
  readonly db: DatabaseHandle;
  readonly config: WriterConfig;
  readonly statements: StatementCache;
  readonly procedures: ReadonlyMap<string, Procedure>;
  readonly sqliteVersion: string;
  readonly begin: Statement;
  readonly commit: Statement;
  readonly rollback: Statement;
  readonly #realPath: string;
  readonly #walPath: string;
  /** `dev:ino` of the database file and of its -wal as this connection opened them (the WAL once it exists). */
  readonly #dbId: string;
  #walId: string | null;
  #walSeenBytes = 0;

  private constructor(db: DatabaseHandle, config: WriterConfig, procedures: ReadonlyMap<string, Procedure>, version: string) {
    this.db = db;
    this.config = config;
    this.procedures = procedures;
    this.sqliteVersion = version;
    this.statements = new StatementCache(db, config.statementCacheSize);
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    // SQLite keeps -wal and -shm beside the file's real path (a symlink is followed).
    this.#realPath = realpathSync(config.path);
    this.#walPath = `${this.#realPath}-wal`;
    this.#dbId = fileId(this.#realPath) ?? '';
    this.#walId = fileId(this.#walPath);
  }

  /**
   * What changed under this connection since it opened, or null: the database file deleted or
   * replaced (another file renamed over its name), or its -wal deleted or replaced. Either way this
   * connection writes into a generation nobody else will read — a new opener of the path sees
   * another file — so what it commits from then on would be acknowledged and lost. Two `stat`s.
   */
  generationProblem(): string | null {
    const dbProblem = this.databaseFileProblem();
    if (dbProblem !== null) return dbProblem;
    const wal = statSync(this.#walPath, { throwIfNoEntry: false });
    const walId = wal === undefined ? null : `${wal.dev}:${wal.ino}`;
    if (this.#walId === null) {
      this.#walId = walId; // not created yet when the connection opened
    } else if (walId === null) {
      return `${this.#walPath} was deleted while the queue had the database open (the writes it held since the last checkpoint went with it)`;
    } else if (walId !== this.#walId) {
      return `${this.#walPath} was replaced while the queue had the database open`;
    }
    // The same stat gives the WAL size a batch reply carries (walSeenBytes).
    this.#walSeenBytes = wal?.size ?? 0;
    return null;
  }

  /**
   * The part of {@link generationProblem} that matters before a transaction: whether the database
   * file is still the one this connection has (one `stat`). After a backup was renamed over it, a
   * commit would put page images of the old file into the -wal beside the new one; a deleted -wal
   * harms nobody by being written (the check after the commit refuses the batch).
   */
  databaseFileProblem(): string | null {
    const db = statSync(this.#realPath, { throwIfNoEntry: false });
    if (db === undefined) return `the database file ${this.#realPath} was deleted while the queue had it open`;
    if (`${db.dev}:${db.ino}` !== this.#dbId) return `the database file ${this.#realPath} was replaced (another file was renamed over it, e.g. a restored backup) while the queue had it open`;
    return null;
  }

  /**
   * Closes a connection whose generation is gone (see {@link generationProblem}) without letting
   * SQLite's close-time checkpoint copy it into the live file. A moved or deleted database file
   * SQLite already leaves alone. A deleted -wal it would checkpoint into the (same) database file,
   * over pages a new generation may have written, and then delete the new generation's -wal by
   * name: the dead WAL (still open here) is truncated first, so that checkpoint reads nothing and
   * fails.
   */
  closeDeadGeneration(): void {
    if (this.#walId !== null && fileId(this.#walPath) !== this.#walId) {
      for (const name of readdirSync('/proc/self/fd')) {
        const fd = Number(name);
        try {
          if (!readlinkSync(`/proc/self/fd/${name}`).startsWith(this.#walPath)) continue;
          const st = fstatSync(fd);
          if (`${st.dev}:${st.ino}` === this.#walId) ftruncateSync(fd, 0);
        } catch {
          // closed meanwhile, or not ours to touch
        }
      }
    }
    try {
      this.db.close();
    } catch {
      // the failed checkpoint may surface here: nothing was copied
    }
  }

  /** Opens the file and applies the connection settings; closes what it opened if a step fails. */
  static async open(config: WriterConfig, retry: BusyRetryPolicy): Promise<WriterConnection> {
    createPrivateFile(config.path);
    // timeout: 0 turns off SQLite's sleeping busy handler; see retryWhileBusy for why.
    const db = new Database(config.path, { timeout: 0 });
    try {
      // Every step may meet SQLITE_BUSY while another process creates the file, switches it to WAL
      // or recovers it; each is idempotent, so the whole sequence is retried like a write.
      const { value: version } = await retryWhileBusy(() => configure(db, config), retry);
      const procedures = await loadProcedures<Procedure>(config.proceduresUrl);
      return new WriterConnection(db, config, procedures, version);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Runs the caller's schema SQL once, all of it in one transaction. */
  async applySetup(setup: readonly string[], retry: BusyRetryPolicy): Promise<void> {
    if (setup.length === 0) return;
    await retryWhileBusy(() => this.begin.run(), retry);
    try {
      for (const sql of setup) this.db.exec(sql);
      this.commit.run();
    } catch (err) {
      if (this.db.inTransaction) this.rollback.run();
      throw err;
    }
  }

  /** Size of the `-wal` file in bytes (0 when absent). Only `stat`: opening it would drop SQLite's locks. */
  walBytes(): number {
    this.#walSeenBytes = statSync(this.#walPath, { throwIfNoEntry: false })?.size ?? 0;
    return this.#walSeenBytes;
  }

  /**
   * The WAL size last seen: by {@link walBytes}, or by {@link generationProblem}, which every batch
   * runs after its transaction (so a batch reply's figure is fresh at no extra `stat`).
   */
  get walSeenBytes(): number {
    return this.#walSeenBytes;
  }

  close(): void {
    this.db.close();
  }
}

/** `dev:ino` of a file, or null when it is not there. */
function fileId(path: string): string | null {
  const st = statSync(path, { throwIfNoEntry: false });
  return st === undefined ? null : `${st.dev}:${st.ino}`;
}

/** Applies the connection settings; returns `sqlite_version()`. */
function configure(db: DatabaseHandle, config: WriterConfig): string {
  const version = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  if (isWalResetBugAffected(version) && !config.allowUnsafeSqliteVersion) {
    throw new WriterError(
      WriterErrorCode.unsafeSqliteVersion,
      `SQLite ${version} has the WAL-reset corruption bug (fixed in 3.51.3, 3.50.7 and 3.44.6); ` +
        'refusing to use WAL with several writers. Upgrade better-sqlite3, or pass ' +
        '`allowUnsafeSqliteVersion: true` if no other process writes to this file.',
    );
  }
  // Switching an existing file to WAL needs an exclusive lock, which another process may hold.
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (String(mode).toLowerCase() !== 'wal') {
    throw new WriterError(WriterErrorCode.invalidOption, `could not put ${config.path} in WAL mode (journal_mode stayed ${String(mode)})`);
  }
  db.pragma(`synchronous = ${config.synchronous.toUpperCase()}`);
  // Checkpoints run as their own writer tasks, never inside a caller's COMMIT.
  db.pragma('wal_autocheckpoint = 0');
  // When this connection resets the WAL, SQLite truncates the file back to this size.
  db.pragma(`journal_size_limit = ${config.walTargetBytes}`);
  return version;
}
