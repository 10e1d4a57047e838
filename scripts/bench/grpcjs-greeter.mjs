// The bench's reference server: helloworld.Greeter on @grpc/grpc-js + @grpc/proto-loader, written
// the way a grpc-js user would (proto-loader reading protos/helloworld.proto at start-up).
//
//   node scripts/bench/grpcjs-greeter.mjs <port>      listens on 127.0.0.1:<port> (0 = ephemeral)
//
// SayHello and SayHelloAgain reply `hello <name>`, like examples/greeter. Prints
// "listening <port>" once bound.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const PROTO = fileURLToPath(new URL('../../protos/helloworld.proto', import.meta.url));
const port = process.argv[2] ?? '0';

const def = protoLoader.loadSync(PROTO, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
const pkg = grpc.loadPackageDefinition(def);
const server = new grpc.Server();
server.addService(pkg.helloworld.Greeter.service, {
  SayHello: (call, cb) => cb(null, { message: 'hello ' + call.request.name }),
  SayHelloAgain: (call, cb) => cb(null, { message: 'hello ' + call.request.name }),
});
server.bindAsync('127.0.0.1:' + port, grpc.ServerCredentials.createInsecure(), (err, bound) => {
  if (err) {
    console.error('grpcjs-greeter: ' + err.message);
    process.exit(1);
  }
  console.log('listening ' + bound);
});
const stop = () => server.tryShutdown(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
