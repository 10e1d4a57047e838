// What the measured servers share (edge-stream.ts, mem-server.ts, scripts/soak/server.ts): the
// Greeter's answers, and the command line they run by:
//   node <bundle>.js [port]    listens on 127.0.0.1 only (port 0, the default: any free one) and prints
//                              "listening <port>"; SIGINT / SIGTERM stop the server (1 s grace)
import { ServerCredentials } from '../../src/index.js';
import type { Server } from '../../src/index.js';
import type { GreeterHandlers } from '../../examples/greeter/generated/helloworld.js';

/** The Greeter service's handlers, answering like examples/greeter. */
export const greeter: GreeterHandlers = {
  SayHello: (req) => ({ message: 'hello ' + req.name }),
  SayHelloAgain: (req) => ({ message: 'hello ' + req.name }),
};

/** Bind `server` as above and start it; `name` prefixes the error if it cannot bind (exit 1). */
export function serve(server: Server, name: string): void {
  server.bind('127.0.0.1:' + (process.argv[2] ?? '0'), ServerCredentials.createInsecure()).then(
    (port) => {
      server.start();
      console.log('listening ' + port);
    },
    (err: unknown) => {
      console.error(name + ': ' + (err as Error).message);
      process.exit(1);
    },
  );
  const stop = (): void => {
    server.stop(1000).then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
