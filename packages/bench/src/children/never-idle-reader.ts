// A reader that almost never lets go: back-to-back read transactions, each holding its snapshot for
// `holdMs`, until the stop file appears (or `maxMs` passes). Prints how many transactions it ran.
//   node never-idle-reader.js <path> <holdMs> <stopFile> <maxMs>
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';

const [path, holdArg, stopFile, durationArg] = process.argv.slice(2) as [string, string, string, string];
const db = new Database(path, { readonly: true, timeout: 5_000 });
const count = db.prepare('SELECT count(*) FROM messages').pluck();
const pause = new Int32Array(new SharedArrayBuffer(4));
const deadline = Date.now() + Number(durationArg);
let transactions = 0;
console.log('reading');
while (Date.now() < deadline && !existsSync(stopFile)) {
  db.exec('BEGIN');
  count.get(); // the snapshot is taken here and held until COMMIT
  Atomics.wait(pause, 0, 0, Number(holdArg));
  db.exec('COMMIT');
  transactions += 1;
}
db.close();
console.log(JSON.stringify({ transactions }));
