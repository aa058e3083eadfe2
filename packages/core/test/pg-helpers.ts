import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';
import pg from 'pg';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startCluster } from '@litescribe/pg-cluster';
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

/**
 * What a {@link faultyProxy} does with the bytes it carries: pass them on; pass nothing either way
 * (connections stay open: a stopped server or a hung proxy as the client sees it); or, once, at the
 * next COMMIT a client sends, cut that connection — after passing the COMMIT on (the server
 * commits; its answer never arrives) or before (the server never gets it and rolls back).
 */
export type ProxyMode = 'forward' | 'silent' | 'cut-after-commit' | 'cut-before-commit';

/** A TCP proxy to 127.0.0.1:`port` with a mode the test sets as it goes; after a cut it forwards again. */
export async function faultyProxy(port: number): Promise<{ port: number; mode: ProxyMode; cuts: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const state = { port: 0, mode: 'forward' as ProxyMode, cuts: 0, close: async () => {} };
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    let cut = false;
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (d: Buffer) => {
      if (cut || state.mode === 'silent') return;
      // The statement text travels NUL-terminated: "COMMIT\0" (not BEGIN's "READ COMMITTED").
      if ((state.mode === 'cut-after-commit' || state.mode === 'cut-before-commit') && d.includes('COMMIT\0')) {
        cut = true;
        state.cuts += 1;
        const after = state.mode === 'cut-after-commit';
        state.mode = 'forward';
        if (after) {
          // The server gets the COMMIT; the client never hears back. The session ends a little later.
          upstream.write(d, () => setTimeout(() => upstream.destroy(), 200));
          client.destroy();
        } else {
          client.destroy();
          upstream.destroy();
        }
        return;
      }
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (!cut && state.mode !== 'silent') client.write(d);
    });
    client.on('close', () => {
      if (!cut) upstream.destroy();
    });
    upstream.on('close', () => client.destroy());
  });
  state.close = () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as { port: number }).port;
  return state;
}
