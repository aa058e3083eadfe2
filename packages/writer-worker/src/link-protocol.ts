/**
 * The protocol between a follower process and the leader's writer thread (shared writer), over a
 * local socket. Nothing here loads SQLite: the follower's main thread imports it
 * (`@litescribe/writer-worker/link`).
 *
 * Frames are a 4-byte big-endian length, a codec byte and the message (see frame-codec.ts): the
 * same layout the writer thread takes (typed arrays, sparse error pairs) crosses the socket.
 *
 * Handshake, with a secret only the database file's owner can read (the token file beside it, mode
 * 0600), proven both ways and never sent: the follower must prove it to join, and the leader must
 * prove it before the follower hands it anything — an abstract socket name can be bound by anyone.
 *   follower → `hello { nonce }`
 *   leader   → `challenge { nonce, proof: hmac(token, 'leader', both nonces) }`
 *   follower → `join { proof: hmac(token, 'follower', both nonces), procedures, setup, synchronous }`
 *   leader   → `welcome { … }` or `refused { error }`
 * Then `task { id, task }` → `reply { id, reply }`, or `redirect { id }` when the leader is leaving
 * and did not run it (the follower sends it to the next leader), and `bye` before the leader closes.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { decodeFrame } from './frame-codec.js';
import type { ErrorData, SynchronousMode, WriterReply, WriterTask } from './protocol.js';

/** Every message on a leader socket, both directions. */
export type LinkMessage =
  | { readonly kind: 'hello'; readonly nonce: Uint8Array; readonly pid: number }
  | { readonly kind: 'challenge'; readonly nonce: Uint8Array; readonly proof: Uint8Array }
  | {
      readonly kind: 'join';
      readonly proof: Uint8Array;
      /** `file:` URL of the follower's procedures module, loaded by the leader, or null. */
      readonly procedures: string | null;
      readonly setup: readonly string[];
      readonly synchronous: SynchronousMode;
    }
  | {
      readonly kind: 'welcome';
      readonly sqliteVersion: string;
      readonly procedures: readonly string[];
      readonly walBytes: number;
      readonly leaderPid: number;
    }
  | { readonly kind: 'refused'; readonly error: ErrorData }
  | { readonly kind: 'task'; readonly id: number; readonly task: WriterTask }
  | { readonly kind: 'reply'; readonly id: number; readonly reply: WriterReply }
  | { readonly kind: 'redirect'; readonly id: number }
  | { readonly kind: 'bye' };

/** Largest frame accepted: a batch is bounded by `maxBatchBytes` (4 MiB by default) plus layout. */
const MAX_FRAME_BYTES = 1024 * 1024 * 1024;

/** Splits a byte stream into messages (frames as {@link encodeFrame} makes them). */
export class FrameDecoder {
  #pending: Buffer = Buffer.alloc(0);

  /** Feeds bytes; returns every whole message they complete. Throws on a frame that cannot be one. */
  push(chunk: Buffer): LinkMessage[] {
    let buf = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const out: LinkMessage[] = [];
    while (buf.length >= 4) {
      const length = buf.readUInt32BE(0);
      if (length === 0 || length > MAX_FRAME_BYTES) throw new Error(`frame of ${length} bytes cannot be a message`);
      if (buf.length < 4 + length) break;
      out.push(decodeFrame(buf.subarray(4, 4 + length)));
      buf = buf.subarray(4 + length);
    }
    this.#pending = buf;
    return out;
  }
}

/** The proof one side gives: HMAC-SHA256 of the role and both nonces, keyed by the token. */
export function linkProof(token: Buffer, role: 'leader' | 'follower', followerNonce: Uint8Array, leaderNonce: Uint8Array): Buffer {
  return createHmac('sha256', token).update(role).update(followerNonce).update(leaderNonce).digest();
}

/** Constant-time comparison of a proof received with the one expected. */
export function proofMatches(received: Uint8Array, expected: Buffer): boolean {
  return received instanceof Uint8Array && received.length === expected.length && timingSafeEqual(received, expected);
}

export { encodeFrame } from './frame-codec.js';
