/**
 * The protocol between a follower process and the leader's writer thread (shared writer), over a
 * local socket. Nothing here loads SQLite: the follower's main thread imports it
 * (`@litescribe/writer-worker/link`).
 *
 * Frames are a 4-byte big-endian length, a codec byte and the message (see frame-codec.ts).
 *
 * Handshake, with a secret only the database file's owner can read (the token file beside it, mode
 * 0600), proven both ways and never sent: the follower must prove it to join, and the leader must
 * prove it before the follower hands it anything — an abstract socket name can be bound by anyone.
 *   follower → `hello { version, nonce }`
 *   leader   → `challenge { version, nonce, proof: hmac(token, 'leader', both nonces) }`
 *   follower → `join { proof: hmac(token, 'follower', both nonces), procedures, setup, synchronous }`
 *   leader   → `welcome { … }` or `refused { error }`
 * Then `task { id, task }` → `reply { id, reply }`, or `redirect { id }` when the leader is leaving
 * and did not run it (the follower sends it to the next leader), and `bye` before the leader closes.
 * A follower waiting on a silent leader sends `ping`; the leader answers `pong` at once.
 *
 * Everything before the proof is untrusted: it travels as small JSON frames only (never
 * `v8.deserialize`, which would parse an attacker's bytes into objects), each checked by
 * link-checks.ts before it is used.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { decodeFrame } from './frame-codec.js';
import { LinkProtocolError } from './link-message.js';
import type { Frame } from './link-message.js';

export { LINK_VERSION, LinkProtocolError } from './link-message.js';
export type { Frame, LinkMessage } from './link-message.js';

/**
 * Splits a byte stream into messages (frames as {@link encodeFrame} makes them).
 *
 * Chunks are kept as they arrive and joined once, when a whole frame is there: a frame streamed in
 * many chunks is copied once, not once per chunk (joining on every chunk made a 128 MB frame cost
 * minutes of CPU). A length over `maxFrameBytes` is refused as soon as its 4 bytes arrive, before
 * anything of the body is kept.
 */
export class FrameDecoder {
  readonly #chunks: Buffer[] = [];
  #buffered = 0;
  /** Body length of the frame being read, once its prefix is in; -1 before. */
  #want = -1;
  /** Largest frame accepted now; raised once the peer has proven it holds the token. */
  maxFrameBytes: number;
  /** Whether `v8.serialize` frames are accepted: only from a peer that has proven itself. */
  allowV8: boolean;

  constructor(maxFrameBytes: number, allowV8 = false) {
    this.maxFrameBytes = maxFrameBytes;
    this.allowV8 = allowV8;
  }

  /** Bytes held for a frame not yet complete. */
  get buffered(): number {
    return this.#buffered;
  }

  /**
   * Feeds bytes; returns every whole message they complete. Throws {@link LinkProtocolError} on a
   * frame that cannot be one; the stream is then unusable.
   */
  push(chunk: Buffer): Frame[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const out: Frame[] = [];
    for (;;) {
      if (this.#want < 0) {
        if (this.#buffered < 4) break;
        const length = this.#peekLength();
        if (length === 0 || length > this.maxFrameBytes) {
          throw new LinkProtocolError(`a frame of ${length} bytes cannot be a message here (at most ${this.maxFrameBytes})`);
        }
        this.#want = length;
      }
      if (this.#buffered < 4 + this.#want) break;
      const frame = this.#take(4 + this.#want).subarray(4);
      this.#want = -1;
      out.push({ msg: decodeFrame(frame, this.allowV8), bytes: frame.length });
    }
    return out;
  }

  #peekLength(): number {
    const first = this.#chunks[0]!;
    if (first.length >= 4) return first.readUInt32BE(0);
    const head = Buffer.concat(this.#chunks, Math.min(this.#buffered, 8));
    return head.readUInt32BE(0);
  }

  /** Removes and returns the next `n` bytes, copying only when they span chunks. */
  #take(n: number): Buffer {
    const first = this.#chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let at = 0;
      while (at < n) {
        const c = this.#chunks[0]!;
        const part = Math.min(c.length, n - at);
        c.copy(out, at, 0, part);
        at += part;
        if (part === c.length) this.#chunks.shift();
        else this.#chunks[0] = c.subarray(part);
      }
    }
    this.#buffered -= n;
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
