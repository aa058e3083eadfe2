/**
 * `@litescribe/writer-worker/link`: what a follower's main thread needs to talk to the leader's
 * writer thread. Loads no SQLite.
 */
export { FrameDecoder, LINK_VERSION, LinkProtocolError, encodeFrame, linkProof, proofMatches } from './share/link-protocol.js';
export type { Frame, LinkMessage } from './share/link-protocol.js';
export { replyProblem } from './share/link-checks.js';
export { ShareError, TokenFileError, createPrivateFile, readToken, shareAddress } from './share/share-address.js';
export { NetworkFileSystemError, NotWritableError, UnsafeFileError, checkLocalFileSystem, checkOwnFiles, checkWritable, mountOf, parseMountInfo } from './file-checks.js';
export type { Mount } from './file-checks.js';
export type { ShareAddress } from './share/share-address.js';
export { sqlProblem, statementProblem } from './sql-shape.js';
export { procStatFields } from './share/proc-stat.js';
export { bindValueBytes, isPlainObject } from './param-shape.js';
