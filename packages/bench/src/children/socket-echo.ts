// A process that sends back whatever it gets on a local socket: the bare cost of the round trip a
// follower's write makes to its leader. A lone byte 0xff asks for this process's CPU time instead.
//   node socket-echo.js <abstract socket name>
import { createServer } from 'node:net';

const server = createServer((socket) => {
  socket.on('data', (chunk: Buffer) => {
    if (chunk.length === 1 && chunk[0] === 0xff) {
      const { user, system } = process.cpuUsage();
      socket.write(`${JSON.stringify({ cpuUs: user + system })}\n`);
    } else {
      socket.write(chunk);
    }
  });
});
server.listen(`\0${process.argv[2]}`, () => console.log('listening'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
