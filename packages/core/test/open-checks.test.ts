// What opening checks about where the file lives: that this process can write it, and that it is
// not on a network or cross-VM file system.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { InvalidOptionError, openWriteQueue } from '@litescribe/core';
import { checkLocalFileSystem, mountOf, parseMountInfo } from '@litescribe/writer-worker/link';
import { MESSAGES_SCHEMA, openTestQueue, tempDir } from './helpers.js';

const asRoot = process.getuid?.() === 0;
const CORE = new URL('../dist/index.js', import.meta.url).href;
const mounts: string[] = [];
afterEach(() => {
  for (const m of mounts.splice(0)) execFileSync('umount', [m]);
});

/** Opens a queue as uid 65534 in a child process; resolves with the error code it met, or 'opened'. */
function openAsNobody(path: string, shareWriter: 'auto' | 'off'): { code: string; message: string } {
  const script = `
    import { openWriteQueue } from ${JSON.stringify(CORE)};
    try {
      const q = await openWriteQueue({ path: ${JSON.stringify(path)}, setup: ${JSON.stringify(MESSAGES_SCHEMA)}, shareWriter: ${JSON.stringify(shareWriter)} });
      await q.close();
      console.log(JSON.stringify({ code: 'opened', message: '' }));
    } catch (err) {
      console.log(JSON.stringify({ code: err.code, message: err.message }));
    }`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534, cwd: '/', encoding: 'utf8' });
  return JSON.parse(out) as { code: string; message: string };
}

/** A folder uid 65534 owns, inside a temporary folder it may enter. */
function nobodysFolder(): string {
  const outer = tempDir();
  chmodSync(outer, 0o711);
  const dir = join(outer, 'nobody');
  mkdirSync(dir, { mode: 0o700 });
  chownSync(dir, 65534, 65534);
  return dir;
}

function nobodysFile(path: string, mode: number): void {
  writeFileSync(path, '', { mode: 0o600 });
  chownSync(path, 65534, 65534);
  chmodSync(path, mode);
}

test.runIf(asRoot)('(needs root, to run as uid 65534) a read-only file, -wal or folder is refused at open with NotWritableError naming it, in both modes', () => {
  for (const shareWriter of ['auto', 'off'] as const) {
    const dir = nobodysFolder();
    // The baseline: its own writable folder and file open.
    expect(openAsNobody(join(dir, 'ok.db'), shareWriter).code).toBe('opened');

    const readOnly = join(dir, 'ro.db');
    nobodysFile(readOnly, 0o400);
    const file = openAsNobody(readOnly, shareWriter);
    expect(file.code).toBe('ERR_NOT_WRITABLE');
    expect(file.message).toContain(`cannot write ${readOnly}: the file is read-only for this process`);
    expect(file.message).toContain('mode 400');

    const wal = join(dir, 'wal.db');
    nobodysFile(wal, 0o600);
    nobodysFile(`${wal}-wal`, 0o400);
    expect(openAsNobody(wal, shareWriter).message).toContain(`cannot write ${wal}-wal`);

    const inFolder = join(dir, 'sealed');
    mkdirSync(inFolder);
    nobodysFile(join(inFolder, 'x.db'), 0o600);
    chownSync(inFolder, 65534, 65534);
    chmodSync(inFolder, 0o500);
    const folder = openAsNobody(join(inFolder, 'x.db'), shareWriter);
    expect(folder.code).toBe('ERR_NOT_WRITABLE');
    expect(folder.message).toContain(`cannot write ${inFolder}: the folder is not writable by this process`);
  }
});

test.runIf(asRoot)('(needs root, to mount) a read-only file system is named as such', async () => {
  const dir = join(tempDir(), 'ro');
  mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
  mounts.push(dir);
  const { q } = await openTestQueue({ path: join(dir, 'a.db'), shareWriter: 'off' });
  await q.close();
  execFileSync('mount', ['-o', 'remount,ro', dir]);
  const err = await openWriteQueue({ path: join(dir, 'a.db') }).catch((e: unknown) => e as Error & { code: string });
  expect(err.code).toBe('ERR_NOT_WRITABLE');
  expect(err.message).toContain('its file system is mounted read-only');
});

// Lines as /proc/self/mountinfo has them (fields: id, parent, dev, root, mount point, options,
// optional fields, "-", type, source, super options).
const MOUNTINFO = [
  '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
  '30 22 0:40 / /mnt/nfs rw,relatime shared:2 - nfs4 server:/export rw,vers=4.2',
  '31 22 0:41 / /mnt/smb rw,relatime - cifs //host/share rw',
  '32 22 0:42 / /mnt/9p rw - 9p hostshare rw,trans=virtio',
  '33 22 0:43 / /Users rw - virtiofs mount0 rw',
  '34 22 0:44 / /mnt/with\\040space rw - fuse.sshfs me@host:/x rw',
  '35 30 0:45 / /mnt/nfs/local rw - ext4 /dev/sdb1 rw',
  '36 22 0:46 / /mnt/nfsish rw - ext4 /dev/sdc1 rw',
].join('\n');

test('mountinfo: the longest mount point holding the file decides, names are unescaped, and network types are refused', () => {
  const mounts = parseMountInfo(MOUNTINFO);
  expect(mounts).toHaveLength(8);
  expect(mountOf('/mnt/nfs/db/state.db', mounts)?.fsType).toBe('nfs4');
  expect(mountOf('/mnt/nfs/local/state.db', mounts)?.fsType).toBe('ext4'); // a local disk mounted inside the NFS mount
  expect(mountOf('/mnt/nfsish/state.db', mounts)?.fsType).toBe('ext4'); // a prefix of the name is not a folder of it
  expect(mountOf('/mnt/with space/a.db', mounts)?.fsType).toBe('fuse.sshfs');
  expect(mountOf('/home/me/a.db', mounts)?.mountPoint).toBe('/');
  for (const path of ['/mnt/nfs/a.db', '/mnt/smb/a.db', '/mnt/9p/a.db', '/Users/me/a.db', '/mnt/with space/a.db']) {
    expect(() => checkLocalFileSystem(path, MOUNTINFO), path).toThrow(/it is on a (nfs4|cifs|9p|virtiofs|fuse\.sshfs) file system .*allowNetworkFileSystem: true/);
  }
  for (const path of ['/mnt/nfs/local/a.db', '/mnt/nfsish/a.db', '/home/me/a.db']) expect(() => checkLocalFileSystem(path, MOUNTINFO), path).not.toThrow();
});

test('the real mounts of this machine: a database on its temporary folder (and on a tmpfs) opens', async () => {
  expect(() => checkLocalFileSystem(join(tempDir(), 'a.db'))).not.toThrow();
  expect(() => checkLocalFileSystem('/dev/shm/litescribe-check.db')).not.toThrow();
  const { q } = await openTestQueue();
  await q.run('INSERT INTO messages(session_id, content) VALUES (?, ?)', ['s', 'local']);
});

test('allowNetworkFileSystem takes a boolean only', async () => {
  const err = await openWriteQueue({ path: join(tempDir(), 'a.db'), allowNetworkFileSystem: 'yes' as unknown as boolean }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InvalidOptionError);
  expect((err as Error).message).toMatch(/allowNetworkFileSystem/);
});
