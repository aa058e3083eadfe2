/** What this needs of a queue (not the WriteQueue class itself: write-queue.ts imports this file). */
export interface ClosableQueue {
  stats(): { readonly role: string };
  close(): Promise<void>;
}

const open = new Set<ClosableQueue>();
let listening = false;

/**
 * Remembers a queue on a shared writer so that, when the process is about to exit on its own (its
 * event loop ran empty, `'beforeExit'`) while it still leads, the queue closes first: the followers'
 * operations it holds commit and they hand over to a new leader, instead of rejecting as
 * outcome-unknown when the process is gone. A process that never leads exits as before; `close()`
 * forgets the queue. One listener for every queue of the process.
 */
export function handOverAtExit(queue: ClosableQueue): void {
  open.add(queue);
  if (listening) return;
  listening = true;
  process.on('beforeExit', () => {
    for (const q of open) if (q.stats().role === 'leader') void q.close();
    open.clear();
  });
}

/** The queue closed (or was destroyed): nothing to do for it at exit. */
export function forgetAtExit(queue: ClosableQueue): void {
  open.delete(queue);
}
