// The Greeter with health and server reflection, as server-reflection.ts, web.ts and start.ts serve
// it: grpc.health.v1.Health saying the Greeter is SERVING, and reflection (v1 and v1alpha) of
// helloworld.proto and health.proto, so that grpcurl, buf curl, grpcui, Postman... list and call the
// Greeter without its .proto file. A module of its own, not an entry: an entry importing another
// entry would run that one's main too once both are in one bundle; and not part of greeter.ts, so
// that the plain Greeter bundle (server.ts) carries none of it.
import { HealthImplementation, healthFileDescriptors } from '../../src/services/health.js';
import { addReflection } from '../../src/services/reflection.js';
import { fileDescriptors } from './generated/helloworld.js';
import { startGreeter } from './greeter.js';
import type { GreeterOptions } from './greeter.js';

/** The Greeter's health service: SERVING. */
export const greeterHealth = (): HealthImplementation => new HealthImplementation({ 'helloworld.Greeter': 'SERVING' });

/** startGreeter() plus `health` (grpc.health.v1.Health) and server reflection; then options.setup. */
export function startGreeterWithReflection(options: GreeterOptions = {}, health = greeterHealth()): ReturnType<typeof startGreeter> {
  return startGreeter({
    ...options,
    setup: (server) => {
      health.addToServer(server);
      addReflection(server, fileDescriptors, healthFileDescriptors);
      options.setup?.(server);
    },
  });
}
