/** Fields a session is created with. */
export interface NewSession {
  id: string;
  source: string;
  userId?: string | null;
  model?: string | null;
  /** Stored as JSON. */
  modelConfig?: unknown;
  systemPrompt?: string | null;
  parentSessionId?: string | null;
}

/** A session as stored. */
export interface Session {
  id: string;
  source: string;
  userId: string | null;
  model: string | null;
  modelConfig: unknown;
  systemPrompt: string | null;
  parentSessionId: string | null;
  startedAt: number;
  endedAt: number | null;
  endReason: string | null;
  title: string | null;
  messageCount: number;
  toolCallCount: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  apiCallCount: number;
}

/** Token figures; each one optional. */
export interface TokenCounts {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  apiCallCount?: number;
  /** Backfilled into the session when it has none; never overwrites one. */
  model?: string;
}

/** A message to append. */
export interface NewMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | (string & {});
  content?: string | null;
  toolCallId?: string | null;
  /** The assistant's tool calls; stored as JSON. Each one counts toward the session's tool_call_count. */
  toolCalls?: unknown[] | null;
  toolName?: string | null;
  tokenCount?: number | null;
  finishReason?: string | null;
  reasoning?: string | null;
  /** Seconds since the epoch; default now. */
  timestamp?: number;
}

/** A message as stored. */
export interface Message {
  id: number;
  sessionId: string;
  role: string;
  content: string | null;
  toolCallId: string | null;
  toolCalls: unknown[] | null;
  toolName: string | null;
  timestamp: number;
  tokenCount: number | null;
  finishReason: string | null;
  reasoning: string | null;
}

/** A full-text search hit. */
export interface SearchHit {
  id: number;
  sessionId: string;
  role: string;
  /** The matching content with the hits in [brackets]. */
  snippet: string;
  timestamp: number;
}
