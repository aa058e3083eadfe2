import type { Database, Statement } from 'better-sqlite3';

/**
 * A bounded cache of prepared statements keyed by SQL text. Preparing is most of the cost of a
 * one-row insert, and callers repeat the same few statements, so a hit saves the parse.
 * Eviction is least-recently-inserted: a Map keeps insertion order and a hit re-inserts.
 */
export class StatementCache {
  readonly #db: Database;
  readonly #capacity: number;
  readonly #map = new Map<string, Statement>();

  constructor(db: Database, capacity: number) {
    this.#db = db;
    this.#capacity = capacity;
  }

  get(sql: string): Statement {
    const hit = this.#map.get(sql);
    if (hit !== undefined) {
      this.#map.delete(sql);
      this.#map.set(sql, hit);
      return hit;
    }
    const stmt = this.#db.prepare(sql);
    if (this.#capacity > 0) {
      if (this.#map.size >= this.#capacity) {
        const oldest = this.#map.keys().next();
        if (oldest.done !== true) this.#map.delete(oldest.value);
      }
      this.#map.set(sql, stmt);
    }
    return stmt;
  }
}
