/**
 * `@litescribe/writer-worker`: the code that runs inside litescribe's writer thread.
 *
 * `handleTask` is the piscina task handler; the rest is the protocol shared with `@litescribe/core`.
 */
export { handleTask } from './handle-task.js';
export { WriterErrorCode } from './protocol.js';
export { isWalResetBugAffected } from './sqlite-version-gate.js';
export { jitteredDelay } from './jittered-delay.js';
// Shared with the reader threads (@litescribe/reader-worker).
export { StatementCache } from './statement-cache.js';
export { toErrorData } from './error-data.js';
export { bindArgs } from './bind-args.js';
export type {
  BindParams,
  BindValue,
  CheckpointMode,
  CheckpointReport,
  ErrorData,
  OpMessage,
  BatchDone,
  BatchTask,
  RunResult,
  StatementMessage,
  SynchronousMode,
  WriterConfig,
  WriterNotice,
  WriterReply,
  WriterTask,
} from './protocol.js';
