import { expect, test } from 'vitest';
import { openTestQueue } from './helpers.js';

const INSERT = 'INSERT INTO messages(session_id, content) VALUES (?, ?)';

function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

test('a large batch settles across turns of the event loop: the code after each await does not run all in one turn', async () => {
  const { q } = await openTestQueue({ maxBatchOps: 4096 });
  // A turn ends where a setImmediate ticker runs; count the continuations each turn ran.
  let inThisTurn = 0;
  let mostInATurn = 0;
  let turns = 0;
  let done = false;
  const tick = (): void => {
    mostInATurn = Math.max(mostInATurn, inThisTurn);
    inThisTurn = 0;
    turns += 1;
    if (!done) setImmediate(tick);
  };
  setImmediate(tick);
  // 4,096 ops issued in one go are one batch; each caller then does 50 µs of work (200 ms in all).
  const results = await Promise.all(
    Array.from({ length: 4096 }, (_, i) =>
      q.run(INSERT, ['s', `m${i}`]).then((r) => {
        inThisTurn += 1;
        spin(0.05);
        return r;
      }),
    ),
  );
  done = true;
  mostInATurn = Math.max(mostInATurn, inThisTurn); // the turn still open counts too
  expect(q.stats().transactions).toBe(1);
  expect(results.map((r) => r.changes)).toEqual(Array(4096).fill(1));
  // Settled all at once, one turn would have run all 4,096 (200 ms). The pacer starts at 128 a
  // turn and shrinks to what fits in its budget; a ticker's turn can straddle two of the pacer's.
  expect(mostInATurn).toBeLessThanOrEqual(1024);
  expect(turns).toBeGreaterThan(4);
});

test('paced settling keeps the order of acknowledgements, flush() and the queue bound across batches', async () => {
  const { q } = await openTestQueue({ maxBatchOps: 1000, maxQueue: 3000 });
  const order: number[] = [];
  const all = Array.from({ length: 6000 }, (_, i) =>
    q.run(INSERT, ['s', `m${i}`]).then(() => {
      order.push(i);
      spin(0.01);
    }),
  );
  expect(q.stats().waitingForRoom).toBe(3000);
  const flushed = q.flush().then(() => order.length);
  await Promise.all(all);
  expect(await flushed).toBe(6000);
  expect(order).toEqual(Array.from({ length: 6000 }, (_, i) => i));
  expect(q.stats().queueDepth).toBe(0);
});
