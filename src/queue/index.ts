export { RingBuffer, nextPowerOfTwo } from './ring-buffer.js';
export { JobQueue } from './job-queue.js';
export type { QueueJob, AdmitResult, JobQueueOptions, JobQueueStats } from './job-queue.js';
