import pg from 'pg';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startCluster } from '@litescribe/pg-cluster';
export { faultyProxy } from '@litescribe/pg-cluster';
import type { PgCluster } from '@litescribe/pg-cluster';
import type { WriteQueue } from '@litescribe/core';

/** A throwaway PostgreSQL cluster for the test file (started once, removed after its last test). */
export function useCluster(): { cluster: PgCluster } {
  const box = {} as { cluster: PgCluster };
  beforeAll(async () => {
    box.cluster = await startCluster();
  }, 120_000);
  afterAll(async () => {
    await box.cluster?.remove();
  });
  return box;
}

let databases = 0;
const queues: WriteQueue[] = [];
afterEach(async () => {
  for (const q of queues.splice(0)) await q.destroy();
});

/** Destroys the queue after the test, whatever happened to it. */
export function track(q: WriteQueue): WriteQueue {
  queues.push(q);
  return q;
}

/** A new, empty database in the cluster; its URL. */
export async function freshDatabase(cluster: PgCluster): Promise<string> {
  const name = `t${process.pid}_${++databases}`;
  await sql(cluster.url, `CREATE DATABASE ${name}`);
  return cluster.url.replace(/\/postgres$/, `/${name}`);
}

/** Runs one statement on a connection of its own (not litescribe's) and returns the rows. */
export async function sql<T = Record<string, unknown>>(url: string, text: string, values?: unknown[]): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

export const PG_MESSAGES = 'CREATE TABLE messages (id bigserial PRIMARY KEY, session_id text NOT NULL, seq int, content text NOT NULL UNIQUE)';
export const PG_PROCEDURES = new URL('./fixtures/pg-procedures.mjs', import.meta.url);
