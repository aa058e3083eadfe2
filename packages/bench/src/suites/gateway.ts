import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { spawnGateway } from '@litescribe/example-gateway/spawn-server';
import type { BenchContext } from '../bench-context.js';
import type { GatewayResult } from '../results.js';

// About 200 bytes of message, as elsewhere in the bench.
const BODY = JSON.stringify({ sessionId: 'bench', role: 'user', content: `${'a message of a chat session, persisted by the gateway before it answers; '.repeat(2)}end` });
const MODES = ['litescribe', 'inline', 'sqlite3'] as const;

/**
 * `--only gateway`: the example gateway (examples/gateway) in a child process, loaded over loopback
 * by autocannon in this process: POST /messages at 64 and 256 connections, with litescribe, with
 * better-sqlite3 inline on the server's main thread, and with node-sqlite3; `synchronous` normal
 * and full. Meanwhile a second autocannon client with one connection asks GET /health: its latency
 * is what a health check sees while the server persists under load. After each run the server gets
 * SIGTERM, and the file must hold every acknowledged message and at most the requests that were in
 * flight when the load stopped (nothing lost, nothing extra). Best of two tries per row.
 */
export async function gateway(ctx: BenchContext): Promise<GatewayResult[]> {
  const results: GatewayResult[] = [];
  const seconds = ctx.smoke ? 1 : 4;
  for (const sync of ['normal', 'full'] as const) {
    for (const connections of [64, 256]) {
      for (const mode of MODES) {
        let best: GatewayResult | null = null;
        for (let attempt = 0; attempt < ctx.tries; attempt++) {
          ctx.progress(`gateway: ${mode}, synchronous ${sync}, ${connections} connections${ctx.tries > 1 ? ` (try ${attempt + 1})` : ''}`);
          const db = ctx.freshFile();
          const server = await spawnGateway({ DB: db, MODE: mode, SYNC: sync });
          let post: autocannon.Result;
          let health: autocannon.Result;
          try {
            [post, health] = await Promise.all([
              autocannon({ url: `${server.url}/messages`, method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY, connections, duration: seconds }),
              autocannon({ url: `${server.url}/health`, connections: 1, duration: seconds }),
            ]);
          } finally {
            const code = await server.stop();
            if (code !== 0) throw new Error(`gateway server (${mode}) exited with ${code} after SIGTERM`);
          }
          const file = new Database(db, { readonly: true });
          const rows = file.prepare('SELECT count(*) FROM messages').pluck().get() as number;
          file.close();
          const acked = post['2xx'];
          if (rows < acked || rows > acked + connections) {
            throw new Error(`gateway (${mode}): ${acked} messages acknowledged, ${connections} connections, but ${rows} rows in the file`);
          }
          const r: GatewayResult = {
            mode,
            synchronous: sync,
            connections,
            requestsPerSec: acked / seconds,
            latencyP50Ms: post.latency.p50,
            latencyP99Ms: post.latency.p99,
            non2xx: post.non2xx,
            errors: post.errors + post.timeouts,
            healthP50Ms: health.latency.p50,
            healthP99Ms: health.latency.p99,
            healthMaxMs: health.latency.max,
            healthAnswered: health['2xx'],
            rows,
          };
          if (best === null || r.requestsPerSec > best.requestsPerSec) best = r;
        }
        results.push(best!);
      }
    }
  }
  return results;
}
