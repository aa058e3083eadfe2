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

/** A row of `listSessionsRich`: the session plus what a picker shows. */
export interface RichSession extends Session {
  /** The first user message, newlines collapsed, cut at 60 characters (plus `...`); `''` if none. */
  preview: string;
  /** The latest message's timestamp, or `startedAt` without messages. */
  lastActive: number;
  /**
   * Set when the row shows the live tip of a compressed conversation: the root's id. The row has
   * the tip's fields except `startedAt`, which is the root's (the conversation's start).
   */
  lineageRootId?: string;
}

/** A session with all its messages, as `exportSession` returns it. */
export interface SessionExport extends Session {
  messages: Message[];
}

/** Token figures; each one optional. */
export interface TokenCounts {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  apiCallCount?: number;
  /** Backfilled into the session when it has none; never overwrites one. */
  model?: string | null;
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
  /** A short reasoning summary (assistant messages). */
  reasoning?: string | null;
  /** The provider's own reasoning text; an empty string is kept. */
  reasoningContent?: string | null;
  /** Structured reasoning (stored as JSON). */
  reasoningDetails?: unknown;
  /** Codex Responses API reasoning items (stored as JSON). */
  codexReasoningItems?: unknown;
  /** Codex Responses API message items (stored as JSON). */
  codexMessageItems?: unknown;
  /** Seconds since the epoch; default now. */
  timestamp?: number;
}

/** A message as stored (JSON columns parsed). */
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
  reasoningContent: string | null;
  reasoningDetails: unknown;
  codexReasoningItems: unknown;
  codexMessageItems: unknown;
}

/**
 * A message of a conversation replay, in the OpenAI chat format a provider is sent — so its keys
 * are the wire format's (`tool_call_id`, `tool_calls`, …), not camelCase. Optional keys are
 * present only when set.
 */
export interface ConversationMessage {
  role: string;
  content: string | null;
  tool_call_id?: string;
  tool_name?: string;
  tool_calls?: unknown[];
  reasoning?: string;
  reasoning_content?: string;
  reasoning_details?: unknown;
  codex_reasoning_items?: unknown;
  codex_message_items?: unknown;
}

/** A full-text search hit. */
export interface SearchHit {
  id: number;
  sessionId: string;
  role: string;
  /** The matching text with the hit between `>>>` and `<<<` (or, for a substring match, the text around it). */
  snippet: string;
  timestamp: number;
  toolName: string | null;
  source: string;
  model: string | null;
  sessionStarted: number;
  /** The message before the hit, the hit, and the one after, in its session (content cut at 200 characters). */
  context: Array<{ role: string; content: string }>;
}

/** Filters and paging of `searchMessages`. */
export interface SearchOptions {
  /** Only sessions of these sources (default: every source). */
  sourceFilter?: readonly string[] | null;
  /** Never sessions of these sources. */
  excludeSources?: readonly string[] | null;
  /** Only messages of these roles. */
  roleFilter?: readonly string[] | null;
  /** Default 20. */
  limit?: number;
  offset?: number;
}

/** What `maybeAutoPruneAndVacuum` did. */
export interface MaintenanceResult {
  skipped: boolean;
  pruned: number;
  vacuumed: boolean;
  /** Set when VACUUM failed (the prune stands). */
  error?: string;
}
