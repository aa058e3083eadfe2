// Files beside the database that another user could have planted, or could write or read, are
// refused at open with UnsafeFileError naming the file; this user's own damaged token is told apart
// from a leader that cannot prove itself.
import { chmodSync, chownSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { UnsafeFileError } from '@litescribe/core';
import type { RoleChange } from '@litescribe/core';
import { shareAddress } from '@litescribe/writer-worker/link';
import { openTestQueue, tempDir, until } from './helpers.js';

const asRoot = process.getuid?.() === 0;

async function refusal(path: string, shareWriter: 'auto' | 'off' = 'auto'): Promise<UnsafeFileError> {
  const err = await openTestQueue({ path, shareWriter }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UnsafeFileError);
  return err as UnsafeFileError;
}

test('a database file others may write is refused in both modes, naming the file and the fix', async () => {
  const path = join(tempDir(), 'open.db');
  writeFileSync(path, '', { mode: 0o600 });
  chmodSync(path, 0o666);
  for (const mode of ['auto', 'off'] as const) {
    const err = await refusal(path, mode);
    expect(err.code).toBe('ERR_UNSAFE_FILE');
    expect(err.message).toContain(path);
    expect(err.message).toContain('mode 666');
    expect(err.message).toMatch(/Fix: remove it/);
  }
  chmodSync(path, 0o600);
  const { q } = await openTestQueue({ path });
  await q.run('INSERT INTO messages(session_id, content) VALUES (?, ?)', ['s', 'fine now']);
});

test('a symbolic link as -wal or as the token is refused, and says so', async () => {
  const dir = tempDir();
  const path = join(dir, 'linked.db');
  writeFileSync(path, '', { mode: 0o600 });
  writeFileSync(join(dir, 'elsewhere'), '', { mode: 0o600 });
  symlinkSync(join(dir, 'elsewhere'), `${path}-wal`);
  expect((await refusal(path)).message).toMatch(/linked\.db-wal: it is a symbolic link/);

  const other = join(dir, 'token-linked.db');
  writeFileSync(other, '', { mode: 0o600 });
  symlinkSync(join(dir, 'elsewhere'), `${other}-litescribe-token`);
  const err = await refusal(other);
  expect(err.message).toMatch(/token-linked\.db-litescribe-token: it is a symbolic link/);
  expect(err.message).toMatch(/shareWriter: 'off'/);
  // Without sharing the token is not used, so it does not stop the open.
  const { q } = await openTestQueue({ path: other, shareWriter: 'off' });
  expect(q.stats().role).toBe('solo');
});

test.runIf(asRoot)('(needs root, to hand files to uid 65534) a database, -shm or token owned by another user is refused', async () => {
  const dir = tempDir();
  const owned = join(dir, 'theirs.db');
  writeFileSync(owned, '', { mode: 0o600 });
  chownSync(owned, 65534, 65534);
  expect((await refusal(owned)).message).toMatch(/theirs\.db: it is owned by uid 65534, not by this process's uid 0/);

  const shm = join(dir, 'shm.db');
  writeFileSync(shm, '', { mode: 0o600 });
  writeFileSync(`${shm}-shm`, '', { mode: 0o600 });
  chownSync(`${shm}-shm`, 65534, 65534);
  expect((await refusal(shm, 'off')).message).toMatch(/shm\.db-shm: it is owned by uid 65534/);

  // Another user pre-created the token in a shared folder: the victim is told which file and why.
  const planted = join(dir, 'planted.db');
  writeFileSync(planted, '', { mode: 0o600 });
  writeFileSync(`${planted}-litescribe-token`, 'x'.repeat(32), { mode: 0o600 });
  chownSync(`${planted}-litescribe-token`, 65534, 65534);
  expect((await refusal(planted)).message).toMatch(/planted\.db-litescribe-token: it is owned by uid 65534/);
});

test("this user's damaged token is named at once: the opener writes alone and says why, instead of blaming the leader after a long wait", async () => {
  const { q: leader, path } = await openTestQueue();
  writeFileSync(shareAddress(path).tokenPath, 'garbage', { mode: 0o600 });
  const started = performance.now();
  const { q } = await openTestQueue({ path });
  const changes: RoleChange[] = [];
  q.on('role', (c) => changes.push(c));
  // Well inside the rendezvous bound (5 s by default): no retrying what cannot mend.
  expect(performance.now() - started).toBeLessThan(2_500);
  expect(q.stats().role).toBe('solo');
  await until(() => changes.length > 0, 'the role event after open');
  expect(changes[0]!.role).toBe('solo');
  expect(changes[0]!.reason).toMatch(/litescribe-token is damaged \(7 bytes, not 32\)/);
  await q.run('INSERT INTO messages(session_id, content) VALUES (?, ?)', ['s', 'written alone']);
  await leader.run('INSERT INTO messages(session_id, content) VALUES (?, ?)', ['s', 'leader still writes']);
  expect(leader.stats().role).toBe('leader');
});
