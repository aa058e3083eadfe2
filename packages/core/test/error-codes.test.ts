import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import * as core from '@litescribe/core';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const table = readme.slice(readme.indexOf('## Error codes'), readme.indexOf('## Durability'));

test('every error code litescribe raises is in the README error table, with its class', () => {
  expect(core.ERROR_CODES.length).toBeGreaterThanOrEqual(11);
  for (const code of core.ERROR_CODES) expect(table).toMatch(new RegExp(`\\| \`${code}\` \\| \`\\w+Error\` \\|`));
});

test('every exported error class has a stable code listed in ERROR_CODES and the README', () => {
  const classes = Object.entries(core).filter(
    ([name, value]) => typeof value === 'function' && name.endsWith('Error') && name !== 'LitescribeError' && name !== 'SqliteError' && name !== 'PostgresError',
  );
  expect(classes.length).toBe(core.ERROR_CODES.length);
  for (const [name, Class] of classes) {
    const err = name === 'QueueFullError' ? new core.QueueFullError(1) : new (Class as new (m: string) => core.LitescribeError)('x');
    expect(err).toBeInstanceOf(core.LitescribeError);
    expect(err.name).toBe(name);
    expect(core.ERROR_CODES).toContain(err.code);
    expect(table).toContain(`| \`${err.code}\` | \`${name}\` |`);
  }
  expect(table).toContain('`SqliteError`');
  expect(new core.SqliteError('m', 'SQLITE_FULL').code).toBe('SQLITE_FULL');
  expect(table).toContain('`PostgresError`');
  expect(new core.PostgresError('m', '23505', 'Key (id)=(1) already exists.').code).toBe('23505');
});
