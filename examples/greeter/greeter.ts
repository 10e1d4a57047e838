// The Greeter example: helloworld.Greeter (protos/helloworld.proto) answering "hello <name>".
// Entries that run it (tests import startGreeter() instead):
//   server.ts             the Greeter alone: the bundle `npm run build` makes for every board,
//                         kept within the pi-zero-2w budget (test/build/bundle.test.ts)
//   server-reflection.ts  the Greeter with health and server reflection (health-reflection.ts), for
//                         grpcurl, buf curl, grpcui, Postman... without the .proto files
//   web.ts                the same with gRPC-Web and Connect
//   start.ts              the same with /metrics and the status page too (`npm start`)
//   metrics.ts            the Greeter with /metrics and the status page alone
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
  /** Called with the server before it listens, to add services (health, reflection...). */
  setup?: (server: Server) => void;
}

/** Start a Greeter server; resolves once it listens. */
export async function startGreeter(options: GreeterOptions = {}): Promise<{ server: Server; port: number }> {
  const { address = '0.0.0.0:50051', setup, ...serverOptions } = options;
  const server = new Server(serverOptions);
  const services = loadServices(descriptor);
  server.addService(services[serviceNames.Greeter]!, greeterHandlers);
  setup?.(server);
  const port = await server.bind(address, ServerCredentials.createInsecure());
  server.start();
  return { server, port };
}

/**
 * The command line: `<entry> [port | unix:/path]`, or PORT, HOST; prints one line once listening,
 * stops gracefully on SIGINT/SIGTERM. `start` is startGreeter or a variant of it.
 */
export function runGreeter(start: (options: GreeterOptions) => Promise<{ server: Server; port: number }>): void {
  const portArg = process.argv[2] ?? process.env.PORT ?? '50051';
  const host = process.env.HOST ?? '0.0.0.0';
  const address = portArg.startsWith('unix:') ? portArg : `${host.includes(':') ? `[${host}]` : host}:${portArg}`;
  start({ address }).then(
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
