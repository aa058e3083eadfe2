// node server.mjs — PORT (default 3000), HOST (default 127.0.0.1), DB (default ./gateway.db).
// SIGTERM/SIGINT: stop accepting, finish the requests in flight, commit what was accepted, exit.
import { buildApp } from './app.mjs';

// MODE (litescribe | inline | sqlite3) and SYNC (normal | full) are for the bench's comparison rows.
const app = await buildApp({
  path: process.env.DB ?? 'gateway.db',
  logger: process.env.LOG === '1',
  mode: process.env.MODE ?? 'litescribe',
  ...(process.env.SYNC ? { synchronous: process.env.SYNC } : {}),
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    // Keep-alive connections that finish their request after close() began would stay open until
    // Fastify's keepAliveTimeout (72 s) and hold the exit: close each as soon as it is idle.
    setInterval(() => app.server.closeIdleConnections(), 50).unref();
    app.close().then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
}
const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' });
console.log(`listening on ${address} (pid ${process.pid}, ${app.litescribe.stats().role})`);
