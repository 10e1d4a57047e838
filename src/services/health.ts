// The standard gRPC health checking service, grpc.health.v1.Health, built on the public API only
// (like @grpc/grpc-health-check for grpc-js):
//
//   const health = new HealthImplementation({ 'helloworld.Greeter': 'SERVING' });
//   health.addToServer(server);
//   health.setStatus('helloworld.Greeter', 'NOT_SERVING');
//
// From the protocol's proto comments:
// - Check: "If the requested service is unknown, the call will fail with status NOT_FOUND."
// - Watch: "The server will immediately send back a message indicating the current serving status.
//   It will then subsequently send a new message whenever the service's serving status changes."
//   "If the requested service is unknown when the call is received, the server will send a message
//   setting the serving status to SERVICE_UNKNOWN but will *not* terminate the call."
// The service name "" stands for the server as a whole; it starts SERVING unless the initial map
// says otherwise.
//
// Watch calls stay open until the client cancels (or the server stops). Client-side health checking
// (grpc-js, grpc-core and grpc-go with a healthCheckConfig) keeps one open per client, so Watch
// bypasses the job queue like reflection: it holds no running slot (two watchers would otherwise
// take both of a Zero 2 W's), only its stream and a listener, bounded by maxConnections and
// maxConcurrentStreams, and by the `maxWatchers` option if set (a Watch beyond it is answered
// RESOURCE_EXHAUSTED at once). When the status changes faster than a watcher's stream drains, the
// watcher gets the latest status (intermediate values can be skipped, the last one is always sent).
import { GrpcError, Status, loadServices } from '../index.js';
import type { CallContext, ServerWriter, ServiceDefinition, ServiceImplementation } from '../index.js';
import { descriptor, serviceNames } from './generated/health.js';
import type { HealthCheckRequest__Output, HealthCheckResponse, HealthHandlers } from './generated/health.js';

/** The statuses an application sets (SERVICE_UNKNOWN is only reported by Watch). */
export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING';

/** What addToServer() needs: any object with the Server's addService(). */
export interface ServiceRegistry {
  addService(definition: ServiceDefinition, implementation: ServiceImplementation): void;
}

export const HEALTH_SERVICE_NAME = serviceNames.Health;

/** grpc/health/v1/health.proto's descriptor, for server reflection: addReflection(server, ..., healthFileDescriptors). */
export { fileDescriptors as healthFileDescriptors } from './generated/health.js';

export interface HealthOptions {
  /** Open Watch calls allowed at once (all services together); default unlimited. */
  maxWatchers?: number;
}

let definitionCache: ServiceDefinition | undefined;

/** The grpc.health.v1.Health ServiceDefinition (built on first use). */
export function healthServiceDefinition(): ServiceDefinition {
  // Built lazily rather than at import time, so that importing this module from anywhere in an
  // import cycle with the package entry point cannot run loadServices before it is defined.
  if (definitionCache === undefined) {
    const def = loadServices(descriptor)[HEALTH_SERVICE_NAME]!;
    // Watch streams take no job slot: they only wait for status changes, and client-side health
    // checking (grpc-js, grpc-core, grpc-go with a healthCheckConfig) keeps one open per client.
    definitionCache = { ...def, methods: { ...def.methods, Watch: { ...def.methods['Watch']!, bypassQueue: true } } };
  }
  return definitionCache;
}

type Listener = () => void;

const VALID: ReadonlySet<string> = new Set<ServingStatus>(['UNKNOWN', 'SERVING', 'NOT_SERVING']);

export class HealthImplementation {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Map<string, Set<Listener>>();
  private watching = 0;
  private readonly maxWatchers: number;
  /** The handlers, for server.addService(healthServiceDefinition(), health.handlers). */
  readonly handlers: HealthHandlers;

  constructor(initial: Record<string, ServingStatus> = {}, options: HealthOptions = {}) {
    const max = options.maxWatchers ?? Infinity;
    if (!(max >= 0) || (Number.isFinite(max) && !Number.isInteger(max))) {
      throw new RangeError(`maxWatchers must be a non-negative integer, got ${max}`);
    }
    this.maxWatchers = max;
    this.statuses.set('', 'SERVING');
    for (const [service, status] of Object.entries(initial)) this.setStatus(service, status);
    this.handlers = {
      Check: (request) => this.check(request),
      Watch: (request, out, ctx) => this.watch(request, out, ctx),
    };
  }

  /** Register the Health service on a server. */
  addToServer(server: ServiceRegistry): void {
    server.addService(healthServiceDefinition(), this.handlers);
  }

  /** Set a service's status; Watch calls on it are told at once. */
  setStatus(service: string, status: ServingStatus): void {
    if (!VALID.has(status)) throw new TypeError(`invalid serving status "${String(status)}"`);
    if (this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    this.notify(service);
  }

  /** Forget a service: Check answers NOT_FOUND again and watchers get SERVICE_UNKNOWN. */
  clearStatus(service: string): void {
    if (this.statuses.delete(service)) this.notify(service);
  }

  /** The status set for a service, or undefined when none is. */
  getStatus(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /**
   * Mark every known service (and the server, "") NOT_SERVING, e.g. before a graceful stop, so
   * that watchers and load balancers move away. Later setStatus() calls still apply.
   */
  enterGracefulShutdown(): void {
    for (const service of [...this.statuses.keys()]) this.setStatus(service, 'NOT_SERVING');
  }

  /** Number of open Watch calls (all services). */
  get watcherCount(): number {
    return this.watching;
  }

  private check(request: HealthCheckRequest__Output): HealthCheckResponse {
    const status = this.statuses.get(request.service);
    if (status === undefined) throw new GrpcError(Status.NOT_FOUND, `unknown service "${request.service}"`);
    return { status };
  }

  private async watch(
    request: HealthCheckRequest__Output,
    out: ServerWriter<HealthCheckResponse>,
    ctx: CallContext,
  ): Promise<void> {
    if (this.watching >= this.maxWatchers) {
      throw new GrpcError(Status.RESOURCE_EXHAUSTED, `too many health watchers (max ${this.maxWatchers})`);
    }
    const service = request.service;
    const signal = ctx.signal;
    let wake: (() => void) | null = null;
    const listener: Listener = () => {
      const w = wake;
      wake = null;
      if (w !== null) w();
    };
    let set = this.watchers.get(service);
    if (set === undefined) this.watchers.set(service, (set = new Set()));
    set.add(listener);
    this.watching++;
    signal.addEventListener('abort', listener);
    try {
      let sent: string | undefined;
      while (!signal.aborted) {
        const current = this.statuses.get(service) ?? 'SERVICE_UNKNOWN';
        if (current !== sent) {
          sent = current;
          await out.write({ status: current });
          continue; // the status may have changed while the write waited
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      signal.removeEventListener('abort', listener);
      this.watching--;
      set.delete(listener);
      if (set.size === 0 && this.watchers.get(service) === set) this.watchers.delete(service);
    }
  }

  private notify(service: string): void {
    const set = this.watchers.get(service);
    if (set === undefined) return;
    for (const listener of set) listener();
  }
}
