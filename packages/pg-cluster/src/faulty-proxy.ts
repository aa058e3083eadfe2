import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';

/**
 * What a {@link faultyProxy} does with the bytes it carries: pass them on; pass nothing either way
 * (connections stay open: a stopped server or a hung proxy as the client sees it); or, once, at the
 * next COMMIT a client sends, cut that connection — after passing the COMMIT on (the server
 * commits; its answer never arrives) or before (the server never gets it and rolls back).
 */
export type ProxyMode = 'forward' | 'silent' | 'cut-after-commit' | 'cut-before-commit';

/** A running {@link faultyProxy}: set `mode` as you go; `cuts` counts the connections cut at a COMMIT. */
export interface FaultyProxy {
  readonly port: number;
  mode: ProxyMode;
  cuts: number;
  close(): Promise<void>;
}

/** A TCP proxy to 127.0.0.1:`port` with a mode the caller sets as it goes; after a cut it forwards again. */
export async function faultyProxy(port: number): Promise<FaultyProxy> {
  const sockets = new Set<Socket>();
  const state = { port: 0, mode: 'forward' as ProxyMode, cuts: 0, close: async (): Promise<void> => {} };
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    let cut = false;
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (d: Buffer) => {
      if (cut || state.mode === 'silent') return;
      // The statement text travels NUL-terminated: "COMMIT\0" (not BEGIN's "READ COMMITTED").
      if ((state.mode === 'cut-after-commit' || state.mode === 'cut-before-commit') && d.includes('COMMIT\0')) {
        cut = true;
        state.cuts += 1;
        const after = state.mode === 'cut-after-commit';
        state.mode = 'forward';
        if (after) {
          // The server gets the COMMIT; the client never hears back. The session ends a little later.
          upstream.write(d, () => setTimeout(() => upstream.destroy(), 200));
          client.destroy();
        } else {
          client.destroy();
          upstream.destroy();
        }
        return;
      }
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (!cut && state.mode !== 'silent') client.write(d);
    });
    client.on('close', () => {
      if (!cut) upstream.destroy();
    });
    upstream.on('close', () => client.destroy());
  });
  state.close = () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as { port: number }).port;
  return state;
}
