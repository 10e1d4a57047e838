// Running the python3-grpcio clients of this directory (Debian's python3-grpcio, so always
// /usr/bin/python3); tests skip with the reason when grpc cannot be imported.
import { execFile, spawnSync } from 'node:child_process';
import { fromRoot } from '../support/paths.js';

export const PYTHON = '/usr/bin/python3';

const probe = spawnSync(PYTHON, ['-c', 'import grpc'], { encoding: 'utf8' });
/** `false`, or why the python tests are skipped (the `skip` option of node:test). */
export const skip = probe.status === 0 ? false : `python3-grpcio not available (${(probe.error?.message ?? probe.stderr).trim()})`;

/**
 * Run test/python/<script> with `args`; resolves with its stdout, rejects naming `what` with its
 * stderr. Asynchronous on purpose: a synchronous child would block an in-process server's event loop.
 */
export function runPythonClient(script: string, args: string[], what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [fromRoot('test/python', script), ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${what} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}
