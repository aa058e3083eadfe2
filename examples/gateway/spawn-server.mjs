// Starts server.mjs in a child process and waits until it listens: for the tests and the bench.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('./server.mjs', import.meta.url));

/**
 * `env` is server.mjs's (DB, MODE, SYNC, …); PORT defaults to 0 (a free port), HOST to 127.0.0.1,
 * MODE to litescribe (never inherited: vitest sets MODE=test in its environment).
 * Resolves with its `url`, its queue's `role` when it started listening, a promise of its exit code, and `stop()`: SIGTERM, then its exit code.
 */
export async function spawnGateway(env) {
  const child = spawn(process.execPath, [SERVER], { env: { ...process.env, PORT: '0', HOST: '127.0.0.1', MODE: 'litescribe', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  const { url, role } = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/\S+) \(pid \d+, (\w+)\)/.exec(out);
      if (m) resolve({ url: m[1], role: m[2] });
    });
    void exited.then((code) => reject(new Error(`gateway server (${env.MODE ?? 'litescribe'}) exited before listening: ${code}`)));
  });
  return {
    url,
    role,
    exited,
    stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
