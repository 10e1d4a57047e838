// ":path" -> method definition and handler. Spec: "Path -> ":path" "/" Service-Name "/" {method name}".
import type { AnyHandler, ServiceDefinition, ServiceImplementation } from '../grpc/method.js';
import type { Route } from '../grpc/call.js';

const lowerFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);

export class Router {
  private readonly routes = new Map<string, Route>();
  /** Registered service names (read by src/observe). */
  readonly services = new Set<string>();

  /**
   * Register every method of `def` with its handler from `impl` (by method name, "SayHello", or
   * lower-camel "sayHello"). Throws at once, registering nothing, on a duplicate service or a
   * missing / non-function handler.
   */
  add(def: ServiceDefinition, impl: ServiceImplementation): void {
    if (def === null || typeof def !== 'object' || typeof def.name !== 'string' || typeof def.methods !== 'object') {
      throw new TypeError('addService: expected a ServiceDefinition ({ name, methods }), e.g. from loadServices()');
    }
    if (impl === null || typeof impl !== 'object') {
      throw new TypeError(`addService(${def.name}): expected an implementation object with one handler per method`);
    }
    if (this.services.has(def.name)) throw new Error(`addService: service ${def.name} is already registered`);
    const pending: Route[] = [];
    const missing: string[] = [];
    for (const m of Object.values(def.methods)) {
      const handler: unknown = impl[m.name] ?? impl[lowerFirst(m.name)];
      if (typeof handler !== 'function') {
        missing.push(m.name);
        continue;
      }
      if (this.routes.has(m.path)) throw new Error(`addService(${def.name}): path ${m.path} is already registered`);
      pending.push({ def: m, handler: handler as AnyHandler, service: def.name });
    }
    if (missing.length > 0) {
      throw new Error(`addService(${def.name}): no handler for method${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
    }
    this.services.add(def.name);
    for (const r of pending) this.routes.set(r.def.path, r);
  }

  /** Remove a service; true when it was registered. */
  remove(name: string): boolean {
    if (!this.services.delete(name)) return false;
    for (const [path, r] of this.routes) if (r.service === name) this.routes.delete(path);
    return true;
  }

  readonly lookup = (path: string): Route | undefined => this.routes.get(path);

  readonly hasService = (name: string): boolean => this.services.has(name);

  /** The registered services' names, in registration order. */
  serviceNames(): string[] {
    return [...this.services];
  }

  get size(): number {
    return this.routes.size;
  }
}
