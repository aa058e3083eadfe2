import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { tempDir } from './helpers.js';

// The built core, imported by another Node binary the way a user's program would.
const coreEntry = new URL('../dist/index.js', import.meta.url).href;

/** A Node binary on this machine older than 22 (the system Node of the CI machine kind is 20), if any. */
function olderNode(): { path: string; version: string } | undefined {
  for (const path of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!existsSync(path)) continue;
    const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim().slice(1);
    if (Number(version.split('.')[0]) < 22) return { path, version };
  }
  return undefined;
}
const older = olderNode();

test.runIf(older !== undefined)(`(needs a Node older than 22 on this machine) on Node ${older?.version ?? '<none found>'} open rejects with UnsupportedNodeError naming both versions, never a crash`, () => {
  const dir = tempDir();
  const script = `
    import { openWriteQueue, backupFile } from ${JSON.stringify(coreEntry)};
    const out = [];
    for (const attempt of [() => openWriteQueue({ path: ${JSON.stringify(join(dir, 'x.db'))} }), () => backupFile('a.db', 'b.db')]) {
      try { await attempt(); out.push('opened'); } catch (err) { out.push({ name: err.name, code: err.code, message: err.message }); }
    }
    console.log(JSON.stringify(out));`;
  const child = spawnSync(older!.path, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  expect(child.signal, child.stderr).toBeNull();
  expect(child.status, child.stderr).toBe(0);
  const results = JSON.parse(child.stdout) as Array<{ name: string; code: string; message: string }>;
  expect(results).toHaveLength(2);
  for (const r of results) {
    expect(r.code).toBe('ERR_UNSUPPORTED_NODE');
    expect(r.name).toBe('UnsupportedNodeError');
    expect(r.message).toContain(`this is Node.js ${older!.version}`);
    expect(r.message).toContain('22.12.0');
  }
  // Nothing was created: no thread ever opened the file.
  expect(existsSync(join(dir, 'x.db'))).toBe(false);
});
