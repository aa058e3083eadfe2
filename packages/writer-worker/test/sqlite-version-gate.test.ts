import Database from 'better-sqlite3';
import { expect, test } from 'vitest';
import { isWalResetBugAffected } from '@litescribe/writer-worker';

test.each([
  ['3.51.2', true],
  ['3.51.3', false],
  ['3.52.0', false],
  ['3.53.2', false],
  ['3.50.6', true],
  ['3.50.7', false],
  ['3.50.9', false],
  ['3.49.1', true],
  ['3.45.0', true],
  ['3.44.5', true],
  ['3.44.6', false],
  ['3.7.17', true],
  ['4.0.0', false],
] as const)('SQLite %s affected by the WAL-reset bug: %s', (version, affected) => {
  expect(isWalResetBugAffected(version)).toBe(affected);
});

test('the SQLite that better-sqlite3 ships here passes the gate (else openWriteQueue would refuse it)', () => {
  const db = new Database(':memory:');
  const version = db.prepare('SELECT sqlite_version()').pluck().get() as string;
  db.close();
  expect(isWalResetBugAffected(version)).toBe(false);
});
