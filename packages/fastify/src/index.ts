/**
 * `@litescribe/fastify`: litescribe in a Fastify server. Opens the write queue when the server
 * boots, decorates the instance with it (`fastify.litescribe` by default), closes it in `onClose`
 * (Fastify has stopped accepting and drained its requests by then; the queue then commits what it
 * accepted and runs its final checkpoint), and turns litescribe's typed errors that a handler lets
 * escape into HTTP replies.
 */
import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import {
  BusyTimeoutError,
  PostgresError,
  QueueClosedError,
  QueueFullError,
  ServerUnavailableError,
  SqliteError,
  WorkerExitedError,
  openWriteQueue,
} from '@litescribe/core';
import type { WriteQueue, WriteQueueOptions } from '@litescribe/core';

/** Options: the queue's own, plus where to put it and how long clients should wait before retrying. */
export type LitescribePluginOptions = WriteQueueOptions & {
  /** Name of the decoration on the Fastify instance. Default `'litescribe'`. */
  decorate?: string;
  /** `Retry-After` (seconds) on 503 replies: queue full, shutting down, locked, server unavailable. Default 1. */
  retryAfterSeconds?: number;
};

declare module 'fastify' {
  interface FastifyInstance {
    /** The write queue opened by `@litescribe/fastify` (under its default name). */
    litescribe: WriteQueue;
  }
}

/** The HTTP reply for a litescribe error, or null for any other error (Fastify's own handling). */
export function httpReplyFor(err: unknown): { readonly statusCode: number; readonly retry: boolean } | null {
  // Full, closing, locked past the deadline, database server away: nothing was written; try later.
  if (err instanceof QueueFullError || err instanceof QueueClosedError || err instanceof BusyTimeoutError || err instanceof ServerUnavailableError) {
    return { statusCode: 503, retry: true };
  }
  // A constraint the request broke (unique, foreign key, check, not null).
  if (err instanceof SqliteError && err.code.startsWith('SQLITE_CONSTRAINT')) return { statusCode: 409, retry: false };
  if (err instanceof PostgresError && err.code.startsWith('23')) return { statusCode: 409, retry: false };
  // The writer went away holding the write: whether it committed is unknown, so no retry is advised.
  if (err instanceof WorkerExitedError) return { statusCode: 500, retry: false };
  return null;
}

const plugin: FastifyPluginAsync<LitescribePluginOptions> = async (fastify: FastifyInstance, options: LitescribePluginOptions) => {
  const { decorate = 'litescribe', retryAfterSeconds = 1, ...queueOptions } = options;
  if (!Number.isInteger(retryAfterSeconds) || retryAfterSeconds < 0) {
    throw new TypeError(`Expected \`retryAfterSeconds\` to be an integer >= 0, got ${String(retryAfterSeconds)}`);
  }
  const queue = await openWriteQueue(queueOptions);
  fastify.decorate(decorate, queue);
  fastify.addHook('onClose', async () => {
    await queue.close();
  });
  const previous = fastify.errorHandler;
  fastify.setErrorHandler(async (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const mapped = httpReplyFor(error);
    if (mapped === null) return previous.call(fastify, error, request, reply);
    if (mapped.retry) void reply.header('retry-after', String(retryAfterSeconds));
    if (mapped.statusCode >= 500) request.log.error({ err: error }, 'litescribe error');
    return reply.code(mapped.statusCode).send({ statusCode: mapped.statusCode, code: (error as { code?: string }).code, error: error.name, message: error.message });
  });
};

/** The plugin (fastify-plugin: not encapsulated, so the decoration and error handling reach every route). */
export const litescribe = fp(plugin, { fastify: '5.x', name: '@litescribe/fastify' });
export default litescribe;
