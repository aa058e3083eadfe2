import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { SessionStore } from '@litescribe/example-session-store';

const run = promisify(execFile);

test('several agent processes share one store file: every session and counter is exact', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'session-store-mp-'));
  try {
    const path = join(dir, 'state.db');
    const agents = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'];
    const turns = 12;
    const script = new URL('./fixtures/agent-process.mjs', import.meta.url).pathname;
    const outputs = await Promise.all(agents.map((id) => run(process.execPath, [script, path, id, String(turns)])));
    for (const o of outputs) expect(o.stdout.trim()).toBe('done');

    const store = await SessionStore.open(path);
    try {
      for (const id of agents) {
        const s = await store.getSession(id);
        // 2 messages per turn, plus a tool reply on every third turn (turns 0, 3, 6, 9).
        expect(s).toMatchObject({ messageCount: 2 * turns + 4, toolCallCount: 4, inputTokens: 10 * turns, apiCallCount: turns, endReason: 'done' });
        const messages = await store.getMessages(id);
        expect(messages).toHaveLength(2 * turns + 4);
        expect(messages[0]!.content).toBe(`${id} question 0`);
      }
      expect(await store.searchMessages('a3 answer')).toHaveLength(turns);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
