/**
 * `@litescribe/writer-worker/link`: what a follower's main thread needs to talk to the leader's
 * writer thread. Loads no SQLite.
 */
export { FrameDecoder, encodeFrame, linkProof, proofMatches } from './link-protocol.js';
export type { LinkMessage } from './link-protocol.js';
export { ShareError, createPrivateFile, readToken, shareAddress } from './share-address.js';
export type { ShareAddress } from './share-address.js';
