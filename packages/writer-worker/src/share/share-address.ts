import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { WriterErrorCode } from '../protocol.js';

/** Where the processes sharing one database file meet: the leader's socket and the proof of access. */
export interface ShareAddress {
  /** The database file, for messages. */
  readonly path: string;
  /**
   * A Linux abstract socket name (leading NUL). Binding it is atomic — the first process to bind
   * leads, a second gets EADDRINUSE — and the name vanishes with the process, so a leader killed
   * with SIGKILL leaves nothing stale behind. It has no file permissions; the token below is the
   * access check.
   */
  readonly socketName: string;
  /** The token file beside the database, mode 0600: only who can read the database's owner-only files can prove access. */
  readonly tokenPath: string;
}

/**
 * The meeting point for a database file. Keyed by the file's device and inode and by the user id,
 * so another user's processes never even try to join. The token sits beside the file's real path,
 * as SQLite's -wal and -shm do, so a symlinked or relative path meets the same leader and reads the
 * same token. (Hard links would find the socket but not the token; SQLite itself warns that hard
 * links to a WAL database can corrupt it: https://www.sqlite.org/howtocorrupt.html)
 */
export function shareAddress(path: string): ShareAddress {
  const real = realpathSync(path);
  const { dev, ino } = statSync(real);
  const uid = process.getuid?.() ?? 0;
  const key = createHash('sha256').update(`${dev}:${ino}`).digest('hex').slice(0, 40);
  return { path: real, socketName: `\0litescribe/${uid}/${key}`, tokenPath: `${real}-litescribe-token` };
}

/**
 * Creates the database file with mode 0600 when it does not exist yet, so transcripts are private
 * from the first byte; SQLite gives the -wal and -shm files the database file's mode.
 * O_EXCL means no descriptor is ever opened on a file that exists, so no lock SQLite holds on it
 * in this process can be dropped by a close().
 */
export function createPrivateFile(path: string): void {
  try {
    writeFileSync(path, '', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/** The shared-writer channel cannot be trusted or was refused; the message says why. */
export class ShareError extends Error {
  readonly code = WriterErrorCode.shareRefused;
}

/**
 * This user's own token file is unusable (a symbolic link, not owner-only, damaged): no retry mends
 * that, unlike a token that could not be read this moment.
 */
export class TokenFileError extends ShareError {}

/** Length of a leader token: 32 random bytes. */
const TOKEN_BYTES = 32;

/** Writes a fresh token (the new leader's), owner-only, replacing the last leader's in one rename. */
export function writeToken(tokenPath: string): Buffer {
  const token = randomBytes(TOKEN_BYTES);
  const tmp = `${tokenPath}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    writeFileSync(tmp, token, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, tokenPath);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing was created
    }
    throw new ShareError(`cannot write the leader token ${tokenPath}: ${(err as Error).message}`, { cause: err });
  }
  return token;
}

/**
 * Reads the current leader's token. Refuses a token file that is not a regular file owned by this
 * user with no group or other permission bits: such a file could have been planted or read by
 * someone else, so it proves nothing. A token of the wrong size is this process's problem (the
 * file is damaged), told apart from a leader that cannot prove itself.
 */
export function readToken(tokenPath: string): Buffer {
  let st: Stats;
  try {
    st = lstatSync(tokenPath);
  } catch (err) {
    throw new ShareError(`cannot read the leader token ${tokenPath}: ${(err as Error).message}`, { cause: err });
  }
  const uid = process.getuid?.() ?? 0;
  if (st.isSymbolicLink()) throw new TokenFileError(`refusing the leader token ${tokenPath}: it is a symbolic link; remove it (the next leader writes a new one)`);
  if (!st.isFile() || st.uid !== uid || (st.mode & 0o077) !== 0) {
    throw new TokenFileError(
      `refusing the leader token ${tokenPath}: expected a regular file owned by uid ${uid} with mode 0600, got uid ${st.uid}, mode ${(st.mode & 0o777).toString(8)}`,
    );
  }
  let token: Buffer;
  try {
    token = readFileSync(tokenPath);
  } catch (err) {
    throw new ShareError(`cannot read the leader token ${tokenPath}: ${(err as Error).message}`, { cause: err });
  }
  if (token.length !== TOKEN_BYTES) {
    throw new TokenFileError(`the leader token ${tokenPath} is damaged (${token.length} bytes, not ${TOKEN_BYTES}); remove it and the next leader writes a new one`);
  }
  return token;
}
