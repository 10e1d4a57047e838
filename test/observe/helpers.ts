// Shared pieces of the observe tests: plain GETs with curl (HTTP/2 prior knowledge or HTTP/1.1),
// the text format parsed into samples, promtool.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CURL = '/usr/bin/curl';
export const PROMTOOL = '/usr/bin/promtool';
export const PROMETHEUS = '/usr/bin/prometheus';
export const CHROMIUM = existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : '/usr/bin/chromium-browser';

export interface Got {
  status: number;
  headers: string;
  body: string;
}

/** GET `url` with curl; `http2`: prior knowledge (h2c), else HTTP/1.1; `args`: more curl arguments (-X POST, -d ...). */
export function curl(url: string, opts: { http2?: boolean; headers?: string[]; args?: string[] } = {}): Promise<Got> {
  const args = ['-s', '-S', '-i', '--max-time', '10', opts.http2 === false ? '--http1.1' : '--http2-prior-knowledge', ...(opts.args ?? [])];
  for (const h of opts.headers ?? []) args.push('-H', h);
  args.push(url);
  return new Promise((resolve, reject) => {
    execFile(CURL, args, { maxBuffer: 8 << 20 }, (err, stdout) => {
      if (err) return reject(err);
      const cut = stdout.indexOf('\r\n\r\n');
      const head = stdout.slice(0, cut);
      const m = /^HTTP\/[\d.]+ (\d+)/.exec(head);
      if (m === null) return reject(new Error(`no status line in ${JSON.stringify(stdout.slice(0, 200))}`));
      resolve({ status: Number(m[1]), headers: head.toLowerCase(), body: stdout.slice(cut + 4) });
    });
  });
}

/** The samples of a text exposition: "name{labels}" exactly as written -> value. */
export function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

/** promtool check metrics on `text`: its exit code and what it printed. */
export function promtoolCheck(text: string): { status: number | null; output: string } {
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** GET `path` on an open node:http2 client session (which stays open: a connection the server counts). */
export function h2get(session: import('node:http2').ClientHttp2Session, path: string, headers: Record<string, string> = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'GET', ':path': path, ...headers });
    let status = 0;
    let head = '';
    req.on('response', (h) => {
      status = Number(h[':status']);
      head = Object.entries(h).map(([k, v]) => `${k}: ${String(v)}`).join('\n').toLowerCase();
    });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ status, headers: head, body: Buffer.concat(chunks).toString('utf8') }));
    req.on('error', reject);
    req.end();
  });
}
