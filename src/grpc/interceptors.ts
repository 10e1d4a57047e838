// Server interceptors: middleware around every call, in the spirit of grpcio's server interceptors
// and Koa-style middleware.
//
//   const auth: ServerInterceptor = async (ctx, next) => {
//     if (ctx.metadata.get('authorization').length === 0) throw new GrpcError(Status.UNAUTHENTICATED, 'no token');
//     await next();
//   };
//
// - Interceptors run in the order given (the first one is outermost), after the call is admitted
//   by the job queue and its request headers are validated, before the handler.
// - `next()` runs the rest of the chain and then the handler; it resolves when the handler has
//   finished (its reply sent, for every kind of call) and rejects with what the handler threw.
//   Calling next() more than once rejects with INTERNAL.
// - Not calling next() ends the call there: return normally for OK status (with no reply message:
//   only meaningful for streaming calls), or throw (a GrpcError) to answer with that status.
// - An interceptor may catch the error of next() and throw another one, or return normally to turn
//   it into OK (only for streaming calls: a unary call with no reply is answered INTERNAL).
// - ctx is the same object the handler gets: set ctx.trailers, call ctx.sendHeaders(), read
//   ctx.metadata / ctx.peer / ctx.deadline, watch ctx.signal.
import type { CallContext, MethodKind } from './method.js';

export interface InterceptorContext extends CallContext {
  /** "helloworld.Greeter" */
  readonly service: string;
  /** "SayHello" */
  readonly methodName: string;
  readonly kind: MethodKind;
}

export type ServerInterceptor = (ctx: InterceptorContext, next: () => Promise<void>) => Promise<void>;
