// node cluster.mjs — WORKERS (default: the number of cores) processes serving one port and one
// database file. They share one writer (shareWriter 'auto'): the first to open the file leads and
// commits every worker's writes; the others send theirs to it. SIGTERM stops them all cleanly.
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';

if (cluster.isPrimary) {
  const workers = Number(process.env.WORKERS ?? availableParallelism());
  for (let i = 0; i < workers; i++) cluster.fork();
  for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  });
} else {
  await import('./server.mjs');
}
