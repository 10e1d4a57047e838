// The same Greeter as examples/greeter (helloworld.Greeter: SayHello, SayHelloAgain) written with
// @grpc/grpc-js and @grpc/proto-loader, bundled by `npm run build -- --compare-grpc-js` only to compare
// sizes. proto-loader normally reads .proto files at run time; to make the bundle self-contained like
// ours, the proto text is embedded and parsed with protobufjs (which proto-loader already depends on),
// then handed to proto-loader's fromJSON.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

const PROTO = `syntax = "proto3";
package helloworld;
service Greeter {
  rpc SayHello (HelloRequest) returns (HelloReply);
  rpc SayHelloAgain (HelloRequest) returns (HelloReply);
}
message HelloRequest { string name = 1; }
message HelloReply { string message = 1; }
`;

const root = protobuf.parse(PROTO, { keepCase: true }).root;
const def = protoLoader.fromJSON(root.toJSON(), { keepCase: true, defaults: true });
const pkg = grpc.loadPackageDefinition(def);
const server = new grpc.Server();
server.addService(pkg.helloworld.Greeter.service, {
  SayHello: (call, cb) => cb(null, { message: 'hello ' + call.request.name }),
  SayHelloAgain: (call, cb) => cb(null, { message: 'hello again ' + call.request.name }),
});
const addr = '127.0.0.1:' + (process.env.PORT ?? '0');
server.bindAsync(addr, grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  console.log('listening ' + port);
});
