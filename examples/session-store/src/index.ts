/** An agent tool's session store on litescribe: sessions, messages, full-text search. */
export { SessionStore } from './session-store.js';
export { SESSION_SCHEMA } from './schema.js';
export type { Message, NewMessage, NewSession, SearchHit, Session, TokenCounts } from './types.js';
