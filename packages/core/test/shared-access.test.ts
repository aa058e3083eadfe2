import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync } from 'node:fs';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { UnsafeFileError } from '@litescribe/core';
import { FrameDecoder, LINK_VERSION, encodeFrame, shareAddress } from '@litescribe/writer-worker/link';
import type { LinkMessage } from '@litescribe/writer-worker/link';
import { openTestQueue } from './helpers.js';

const run = promisify(execFile);

/** Speaks the handshake with a proof made up on the spot; resolves with the leader's answers. */
function joinWithoutTheToken(socketName: string): Promise<LinkMessage[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path: socketName });
    const decoder = new FrameDecoder(1 << 20);
    const seen: LinkMessage[] = [];
    socket.on('connect', () => socket.write(encodeFrame({ kind: 'hello', version: LINK_VERSION, nonce: randomBytes(16), pid: process.pid })));
    socket.on('data', (chunk: Buffer) => {
      for (const { msg } of decoder.push(chunk)) {
        seen.push(msg);
        if (msg.kind === 'challenge') {
          socket.write(encodeFrame({ kind: 'join', proof: randomBytes(32), procedures: null, setup: [], synchronous: 'normal' }));
        }
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(seen));
  });
}

test('a process that cannot prove it holds the token is refused, and the leader serves the others', async () => {
  const { q, path } = await openTestQueue();
  const answers = await joinWithoutTheToken(shareAddress(path).socketName);
  expect(answers.map((m) => m.kind)).toEqual(['challenge', 'refused']);
  const refused = answers[1] as Extract<LinkMessage, { kind: 'refused' }>;
  expect(refused.error.code).toBe('ERR_SHARE_REFUSED');
  const { q: follower } = await openTestQueue({ path });
  expect(follower.stats().role).toBe('follower');
  await follower.run('INSERT INTO messages(session_id, content) VALUES (?, ?)', ['f', 'still served']);
  expect(q.stats().role).toBe('leader');
});

test('a token file others could read proves nothing: opening refuses it with UnsafeFileError, naming the file', async () => {
  const { path } = await openTestQueue();
  const { tokenPath } = shareAddress(path);
  chmodSync(tokenPath, 0o644);
  const err = await openTestQueue({ path }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UnsafeFileError);
  expect((err as Error).message).toContain(tokenPath);
  expect((err as Error).message).toContain('mode 644');
  chmodSync(tokenPath, 0o600);
  const { q } = await openTestQueue({ path });
  expect(q.stats().role).toBe('follower');
});

test.runIf(process.getuid?.() === 0)('another user (uid nobody) reaches the socket but cannot read the token, and is refused', async () => {
  const { path } = await openTestQueue();
  const { socketName, tokenPath } = shareAddress(path);
  const link = new URL('../../writer-worker/dist/link.js', import.meta.url).href;
  // As uid 65534: connect to this user's leader, try to read the token, then try a made-up proof.
  const script = `
    import { randomBytes } from 'node:crypto';
    import { connect } from 'node:net';
    import { FrameDecoder, LINK_VERSION, encodeFrame, readToken } from ${JSON.stringify(link)};
    const out = [];
    const socket = connect({ path: ${JSON.stringify(socketName)} });
    const decoder = new FrameDecoder(1 << 20);
    socket.on('connect', () => socket.write(encodeFrame({ kind: 'hello', version: LINK_VERSION, nonce: randomBytes(16), pid: process.pid })));
    socket.on('data', (chunk) => {
      for (const { msg } of decoder.push(chunk)) {
        out.push(msg.kind === 'refused' ? 'refused ' + msg.error.code : msg.kind);
        if (msg.kind === 'challenge') {
          try { readToken(${JSON.stringify(tokenPath)}); out.push('read the token'); } catch (err) { out.push('token: ' + err.cause?.code); }
          socket.write(encodeFrame({ kind: 'join', proof: randomBytes(32), procedures: null, setup: [], synchronous: 'normal' }));
        }
      }
    });
    socket.on('close', () => console.log(JSON.stringify(out)));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534, cwd: '/' });
  expect(JSON.parse(stdout)).toEqual(['challenge', 'token: EACCES', 'refused ERR_SHARE_REFUSED']);
});
