// A thread that sends back whatever it gets: the bare cost of a postMessage round trip.
import { parentPort } from 'node:worker_threads';

parentPort!.on('message', (m: unknown) => parentPort!.postMessage(m));
