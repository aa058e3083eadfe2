// A stranger on a leader's socket, for the hostile suite: it knows the socket name (anyone who can
// stat the file does) but not the token. Until its time is up it keeps, at once: junk and
// type-confused frames on fresh connections, connections announcing 1 GiB frames and streaming
// their bodies, and idle connections held open. Ends with one JSON line of what it did.
//   node abuser.js <socketName without its leading NUL> <durationMs>
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { serialize } from 'node:v8';

// The name comes without its leading NUL (an argument cannot hold one).
const [bare, durationArg] = process.argv.slice(2) as [string, string];
const name = `\0${bare}`;
const until = Date.now() + Number(durationArg);
const frame = (codec: number, body: Buffer): Buffer => {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length + 1, 0);
  head[4] = codec;
  return Buffer.concat([head, body]);
};
const JUNK = [
  () => randomBytes(200),
  () => frame(0, serialize(null)),
  () => frame(3, Buffer.from(JSON.stringify({ kind: 'hello', nonce: 5 }))),
  () => frame(3, Buffer.from('not json')),
  () => frame(0, serialize({ kind: 'hello', nonce: 5 })),
];
let opened = 0;
let cutOff = 0;
const open = (): Promise<Socket & { gone: Promise<void> }> =>
  new Promise((resolve) => {
    const s = connect({ path: name }) as Socket & { gone: Promise<void> };
    opened += 1;
    s.gone = new Promise((done) => s.on('close', () => ((cutOff += 1), done())));
    s.on('error', () => undefined);
    s.on('connect', () => resolve(s));
    s.on('close', () => resolve(s));
  });

async function junk(): Promise<void> {
  for (let k = 0; Date.now() < until; k++) {
    const s = await open();
    s.write(JUNK[k % JUNK.length]!());
    await s.gone;
  }
}
async function oversized(): Promise<void> {
  const chunk = Buffer.alloc(1 << 20);
  while (Date.now() < until) {
    const s = await open();
    const head = Buffer.alloc(5);
    head.writeUInt32BE(1 << 30, 0);
    s.write(head);
    const pump = (): void => {
      while (!s.destroyed && Date.now() < until && s.write(chunk));
    };
    s.on('drain', pump);
    pump();
    await s.gone;
  }
}
async function idle(): Promise<void> {
  const held: Array<Socket & { gone: Promise<void> }> = [];
  while (Date.now() < until) {
    for (let k = 0; k < 50 && Date.now() < until; k++) held.push(await open());
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const s of held) s.destroy();
}
// ABUSE=junk|oversized|idle runs one kind alone (to see which costs what).
const only = process.env.ABUSE;
await Promise.all([junk(), junk(), oversized(), oversized(), idle()].filter((_, k) => only === undefined || ['junk', 'junk', 'oversized', 'oversized', 'idle'][k] === only));
console.log(JSON.stringify({ opened, cutOff }));
