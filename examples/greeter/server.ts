// The Greeter example: helloworld.Greeter (protos/helloworld.proto) answering "hello <name>".
//
//   npm start                       listens on 0.0.0.0:50051
//   node build/examples/greeter/server.js 50052      or PORT=50052, HOST=127.0.0.1
//
// Prints one line when ready. Tests import startGreeter() instead of running it.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Server, ServerCredentials, loadServices } from '../../src/index.js';
import type { ServerOptions } from '../../src/index.js';
import { descriptor, serviceNames } from './generated/helloworld.js';
import type { GreeterHandlers } from './generated/helloworld.js';

export const greeterHandlers: GreeterHandlers = {
  SayHello: (req) => ({ message: `hello ${req.name}` }),
  SayHelloAgain: (req) => ({ message: `hello ${req.name}` }),
};

export interface GreeterOptions extends ServerOptions {
  /** "host:port" or "unix:/path"; default 0.0.0.0:50051. */
  address?: string;
}

/** Start a Greeter server; resolves once it listens. */
export async function startGreeter(options: GreeterOptions = {}): Promise<{ server: Server; port: number }> {
  const { address = '0.0.0.0:50051', ...serverOptions } = options;
  const server = new Server(serverOptions);
  const services = loadServices(descriptor);
  server.addService(services[serviceNames.Greeter]!, greeterHandlers);
  const port = await server.bind(address, ServerCredentials.createInsecure());
  server.start();
  return { server, port };
}

function main(): void {
  const portArg = process.argv[2] ?? process.env.PORT ?? '50051';
  const host = process.env.HOST ?? '0.0.0.0';
  const address = portArg.startsWith('unix:') ? portArg : `${host.includes(':') ? `[${host}]` : host}:${portArg}`;
  startGreeter({ address }).then(
    ({ server, port }) => {
      console.log(`greeter listening on ${address.startsWith('unix:') ? address : `${host}:${port}`}`);
      const stop = (): void => {
        server.stop(5000).then(() => process.exit(0), () => process.exit(1));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (err: unknown) => {
      console.error(`greeter: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
