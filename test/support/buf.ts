// `buf curl` (the Go binary the npm package @bufbuild/buf ships, a dev dependency) as a gRPC client
// that learns the schema through server reflection.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromRoot } from './paths.js';

export const BUF = fromRoot('node_modules/.bin/buf');

let cacheDir: string | undefined;

export interface BufResult {
  /** 0, or buf curl's exit code: the gRPC status code shifted left by 3 when the RPC failed. */
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run `buf curl --protocol grpc --http2-prior-knowledge <args>`, with `stdin` as its input (for
 * `-d @-`). Asynchronous, so a server in the same process keeps serving.
 */
export function bufCurl(args: string[], stdin?: string): Promise<BufResult> {
  cacheDir ??= mkdtempSync(join(tmpdir(), 'edge-buf-cache-'));
  return new Promise((resolve, reject) => {
    const child = execFile(
      BUF,
      ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', '--timeout', '15s', ...args],
      { encoding: 'utf8', env: { ...process.env, BUF_CACHE_DIR: cacheDir } },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') reject(err);
        else resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
      },
    );
    child.stdin!.end(stdin ?? '');
  });
}

/** buf curl prints each response message as an indented JSON object: split and parse them. */
export function bufMessages(stdout: string): unknown[] {
  return stdout.split(/\n(?=\{)/).filter((s) => s.trim() !== '').map((s) => JSON.parse(s));
}
