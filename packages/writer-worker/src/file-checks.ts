/**
 * What opening checks about the database file before anything opens it, in both sharing modes:
 * that it and the files beside it are this user's own, that this process can write them, and that
 * they are on a file system where SQLite's WAL works. Loads no SQLite (the main thread runs these).
 */
import { accessSync, constants, lstatSync, readFileSync, realpathSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { WriterErrorCode } from './protocol.js';

/** The database's real path (its folder's real path and its name, when it does not exist yet), or null without a folder. */
function realPathOf(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    try {
      return join(realpathSync(dirname(path)), basename(path));
    } catch {
      return null;
    }
  }
}

/** A file beside the database that another user could have planted, or could write or read. */
export class UnsafeFileError extends Error {
  readonly code = WriterErrorCode.unsafeFile;
}

function unsafe(file: string, why: string, orOff = false): UnsafeFileError {
  return new UnsafeFileError(
    `refusing ${file}: ${why}. Another user could have planted it, or can change or read what is written. Fix: remove it (or chown/chmod it), and keep the database in a folder only you can write${orOff ? "; or open with shareWriter: 'off', which does not use this file" : ''}`,
  );
}

/**
 * Checks, before anything opens them, that the database file and the files beside it (`-wal`,
 * `-shm`, and with `sharing` the leader token) are this user's own: owned by this process's uid,
 * not writable by others, and (for the sidecars) not symbolic links. Files that do not exist yet
 * pass: they are created owner-only. Throws {@link UnsafeFileError} naming the file and what is
 * wrong with it.
 */
export function checkOwnFiles(path: string, sharing: boolean): void {
  const uid = process.getuid?.() ?? 0;
  // Not there yet: the sidecars would sit beside it in its (real) folder; no folder either: opening will say so.
  const real = realPathOf(path);
  if (real === null) return;
  try {
    const st = statSync(real);
    if (!st.isFile()) throw unsafe(real, 'it is not a regular file');
    if (st.uid !== uid) throw unsafe(real, `it is owned by uid ${st.uid}, not by this process's uid ${uid}`);
    if ((st.mode & 0o002) !== 0) throw unsafe(real, `others may write it (mode ${(st.mode & 0o777).toString(8)})`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  for (const [suffix, privateOnly] of [['-wal', false], ['-shm', false], ['-litescribe-token', true]] as const) {
    if (privateOnly && !sharing) continue;
    const file = `${real}${suffix}`;
    let st: Stats;
    try {
      st = lstatSync(file);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) throw unsafe(file, 'it is a symbolic link', privateOnly);
    if (!st.isFile()) throw unsafe(file, 'it is not a regular file', privateOnly);
    if (st.uid !== uid) throw unsafe(file, `it is owned by uid ${st.uid}, not by this process's uid ${uid}`, privateOnly);
    const mask = privateOnly ? 0o077 : 0o002;
    if ((st.mode & mask) !== 0) throw unsafe(file, `its mode ${(st.mode & 0o777).toString(8)} lets ${privateOnly ? 'others read or write it' : 'others write it'}`, privateOnly);
  }
}

/** The file, or its folder, is not writable by this process. */
export class NotWritableError extends Error {
  readonly code = WriterErrorCode.notWritable;
}

/**
 * Checks that this process can write the database, its `-wal` and `-shm` (those that exist) and its
 * folder (SQLite creates the sidecars there; a shared writer's token too). Without this a queue on a
 * read-only file opened fine and then failed every write with `SQLITE_READONLY`, naming no file.
 * Throws {@link NotWritableError} naming the file and why.
 */
export function checkWritable(path: string): void {
  const real = realPathOf(path);
  if (real === null) return;
  const cannot = (file: string, err: unknown, what: string): NotWritableError => {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EROFS' ? 'its file system is mounted read-only' : `${what} (${code ?? 'EACCES'}, uid ${process.getuid?.() ?? 0})`;
    return new NotWritableError(`cannot write ${file}: ${why}. The queue needs to write the database, its -wal and -shm, and to create files in its folder`);
  };
  const folder = dirname(real);
  try {
    accessSync(folder, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw cannot(folder, err, 'the folder is not writable by this process, and SQLite creates -wal and -shm in it');
  }
  for (const file of [real, `${real}-wal`, `${real}-shm`]) {
    try {
      accessSync(file, constants.W_OK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      let mode = '';
      try {
        mode = `, mode ${(statSync(file).mode & 0o777).toString(8)}`;
      } catch {
        // gone meanwhile
      }
      throw cannot(file, err, `the file is read-only for this process${mode}`);
    }
  }
}

/**
 * File systems where SQLite's WAL does not work: its index is shared memory, which only processes
 * on one host share, so on a network or cross-VM file system (NFS, SMB/CIFS, 9p, virtiofs — Docker
 * Desktop, OrbStack and Podman machine bind mounts — and the like) two hosts' writers corrupt the
 * file silently. https://www.sqlite.org/wal.html ("WAL does not work over a network filesystem").
 */
const NETWORK_FILE_SYSTEMS = new Set([
  'nfs', 'nfs4', 'cifs', 'smb3', 'smbfs', '9p', 'virtiofs', 'afs', 'ceph', 'glusterfs', 'lustre', 'gpfs', 'ocfs2', 'gfs2',
  'vboxsf', 'vmhgfs', 'prl_fs', 'davfs', 'fakeowner', 'fuse.sshfs', 'fuse.grpcfuse', 'fuse.osxfs', 'fuse.glusterfs',
  'fuse.vmhgfs-fuse', 'fuse.davfs2', 'fuse.rclone', 'fuse.s3fs', 'fuse.gcsfuse', 'fuse.juicefs', 'fuse.cephfs',
]);

/** One mount, as /proc/self/mountinfo lists it. */
export interface Mount {
  readonly mountPoint: string;
  readonly fsType: string;
  readonly source: string;
}

/** Undoes mountinfo's octal escapes (`\040` for a space, `\011`, `\012`, `\134`). */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** Parses /proc/self/mountinfo text: mount point (field 5), and after the `-` separator the type and source. */
export function parseMountInfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-', 6);
    if (fields.length < 10 || dash < 0 || dash + 2 >= fields.length) continue;
    mounts.push({ mountPoint: unescapeMountField(fields[4]!), fsType: fields[dash + 1]!, source: unescapeMountField(fields[dash + 2]!) });
  }
  return mounts;
}

/** The mount a path is on: the longest mount point that is the path or one of its folders (the last listed wins a tie: it is mounted on top). */
export function mountOf(realPath: string, mounts: readonly Mount[]): Mount | null {
  let best: Mount | null = null;
  for (const m of mounts) {
    const inside = m.mountPoint === '/' || realPath === m.mountPoint || realPath.startsWith(`${m.mountPoint}/`);
    if (inside && (best === null || m.mountPoint.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

/** The database is on a file system where SQLite's WAL can corrupt it. */
export class NetworkFileSystemError extends Error {
  readonly code = WriterErrorCode.networkFileSystem;
}

/**
 * Refuses a database on a network or cross-VM file system (see {@link NETWORK_FILE_SYSTEMS}), found
 * by the longest mount-point prefix of its real path in /proc/self/mountinfo. Linux only; where
 * mountinfo cannot be read nothing is refused. `mountInfo` is for tests.
 */
export function checkLocalFileSystem(path: string, mountInfo?: string): void {
  const real = realPathOf(path) ?? resolve(path);
  let text = mountInfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/mountinfo', 'utf8');
    } catch {
      return;
    }
  }
  const mount = mountOf(real, parseMountInfo(text));
  if (mount === null || !NETWORK_FILE_SYSTEMS.has(mount.fsType)) return;
  throw new NetworkFileSystemError(
    `refusing ${real}: it is on a ${mount.fsType} file system (${mount.source} mounted at ${mount.mountPoint}). SQLite's WAL keeps its index in shared memory, which processes on different hosts (or a VM and its host) do not share, so writers there can corrupt the database without an error. Keep the database on a local disk; if every process that opens it runs on this one host, pass allowNetworkFileSystem: true (README: "Where the file may live")`,
  );
}
