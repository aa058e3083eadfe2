import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterEach, expect, test } from 'vitest';
import { QueueClosedError } from '@litescribe/core';
import { litescribe } from '@litescribe/fastify';

const SCHEMA = 'CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function server(extra: Record<string, unknown> = {}): Promise<{ app: FastifyInstance; url: string; path: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'litescribe-fastify-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'gw.db');
  const app = Fastify();
  await app.register(litescribe, { path, setup: SCHEMA, ...extra });
  app.post<{ Body: { name: string } }>('/events', async (req, reply) => {
    const { lastInsertRowid } = await app.litescribe.run('INSERT INTO events (name) VALUES (?)', [req.body.name]);
    return reply.code(201).send({ id: lastInsertRowid });
  });
  app.post<{ Body: { names: string[] } }>('/pair', async (req) => {
    await Promise.all(req.body.names.map((name) => app.litescribe.run('INSERT INTO events (name) VALUES (?)', [name])));
    return { ok: true };
  });
  app.post<{ Body: { name: string } }>('/accept', async (req, reply) => {
    void app.litescribe.run('INSERT INTO events (name) VALUES (?)', [req.body.name]).catch(() => {});
    return reply.code(202).send();
  });
  app.get('/events', async () => app.litescribe.all('SELECT id, name FROM events ORDER BY id'));
  app.get('/boom', async () => {
    throw new Error('not a litescribe error');
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  cleanups.push(() => app.close());
  const { port } = app.server.address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}`, path };
}

const post = (url: string, body: unknown): Promise<Response> => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

test('the plugin opens the queue, decorates the instance, and handlers write and read through it over real HTTP', async () => {
  const { app, url } = await server();
  const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => post(`${url}/events`, { name: `e${i}` })));
  expect(replies.every((r) => r.status === 201)).toBe(true);
  const rows = (await (await fetch(`${url}/events`)).json()) as Array<{ name: string }>;
  expect(rows).toHaveLength(200);
  expect(app.litescribe.stats().transactions).toBeLessThan(200); // concurrent requests share commits
});

test('close() drains: writes accepted by handlers commit before the queue closes, then the queue refuses', async () => {
  const { app, url, path } = await server();
  const replies = await Promise.all(Array.from({ length: 300 }, (_, i) => post(`${url}/accept`, { name: `a${i}` })));
  expect(replies.every((r) => r.status === 202)).toBe(true);
  await app.close();
  const db = new Database(path, { readonly: true });
  expect(db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(300);
  db.close();
  await expect(app.litescribe.run('INSERT INTO events (name) VALUES (?)', ['late'])).rejects.toBeInstanceOf(QueueClosedError);
});

test('errors a handler lets escape: queue full -> 503 with Retry-After, constraint -> 409, others stay Fastify\'s', async () => {
  const { app, url } = await server({ maxQueue: 1, onFull: 'reject', retryAfterSeconds: 2 });
  const full = await post(`${url}/pair`, { names: ['p1', 'p2'] });
  expect(full.status).toBe(503);
  expect(full.headers.get('retry-after')).toBe('2');
  expect(await full.json()).toMatchObject({ statusCode: 503, code: 'ERR_QUEUE_FULL', error: 'QueueFullError' });
  // The 503 went out as soon as p2 was refused; p1 still holds the one place in the queue until it
  // settles. Wait for that, or the next request races it and meets a full queue too.
  await app.litescribe.flush();
  expect(app.litescribe.stats().queueDepth).toBe(0);
  expect((await post(`${url}/events`, { name: 'dup' })).status).toBe(201);
  const dup = await post(`${url}/events`, { name: 'dup' });
  expect(dup.status).toBe(409);
  expect(await dup.json()).toMatchObject({ code: 'SQLITE_CONSTRAINT_UNIQUE' });
  const boom = await fetch(`${url}/boom`);
  expect(boom.status).toBe(500);
  expect(boom.headers.get('retry-after')).toBeNull();
});
