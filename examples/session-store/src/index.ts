/** An agent tool's session store on litescribe: a port of hermes-agent's SessionDB. */
export { SessionStore } from './session-store.js';
export { SCHEMA_VERSION, SESSION_SCHEMA, parseSchemaColumns, TABLES_SQL } from './schema.js';
export { MAX_TITLE_LENGTH, TitleTooLongError, containsCjk, escapeLike, sanitizeFts5Query, sanitizeTitle, stripMemoryContext } from './text.js';
export type {
  ConversationMessage,
  MaintenanceResult,
  Message,
  NewMessage,
  NewSession,
  RichSession,
  SearchHit,
  SearchOptions,
  Session,
  SessionExport,
  TokenCounts,
} from './types.js';
