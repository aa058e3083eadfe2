/** The messages of the follower ↔ leader link (the protocol itself: link-protocol.ts). */
import type { ErrorData, SynchronousMode, WriterReply, WriterTask } from '../protocol.js';

/**
 * The link protocol's version. A follower and a leader of different versions do not link: the
 * follower writes through a writer of its own instead (1 was the unversioned protocol).
 */
export const LINK_VERSION = 2;

/** Every message on a leader socket, both directions. */
export type LinkMessage =
  | { readonly kind: 'hello'; readonly version: number; readonly nonce: Uint8Array; readonly pid: number }
  | { readonly kind: 'challenge'; readonly version: number; readonly nonce: Uint8Array; readonly proof: Uint8Array }
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
      /**
       * The leader process's start time (field 22 of `/proc/<pid>/stat`), so a follower can tell
       * that `/proc/<leaderPid>` is that process (and not a reused pid or another pid namespace)
       * before it reads the leader's state from there. Null where it could not be read.
       */
      readonly leaderStart: string | null;
    }
  | { readonly kind: 'refused'; readonly error: ErrorData; readonly version?: number }
  | { readonly kind: 'task'; readonly id: number; readonly task: WriterTask }
  | { readonly kind: 'reply'; readonly id: number; readonly reply: WriterReply }
  | { readonly kind: 'redirect'; readonly id: number }
  | { readonly kind: 'ping' }
  | { readonly kind: 'pong' }
  | { readonly kind: 'bye' };

/** One decoded frame: the message and the size of its body (a follower's batch is budgeted by it). */
export interface Frame {
  readonly msg: LinkMessage;
  readonly bytes: number;
}

/** A frame or message that cannot be one of this protocol's: the connection that sent it is closed. */
export class LinkProtocolError extends Error {
  override readonly name = 'LinkProtocolError';
}
