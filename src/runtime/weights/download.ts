import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WeightsError } from './tensors.js';

// One file over https into `dest`, through a temporary file: the destination exists only when the
// whole file arrived. Every failure (status, network, cut short, checksum, too large, too slow, a
// redirect to another host) removes the partial file and says what was refused.

export interface Progress {
  readonly url: string;
  readonly file: string;
  readonly received: number;
  readonly total: number | null;
}

export interface DownloadOptions {
  readonly sha256?: string | null;
  readonly onProgress?: (p: Progress) => void;
  /** Gives up when no byte arrives for this long. */
  readonly idleMs?: number;
  /** Gives up when the whole download takes longer than this (a trickle of bytes cannot keep it alive). */
  readonly deadlineMs?: number;
  /** Refuses a file larger than this. */
  readonly maxBytes?: number;
  /** Plain http (for a local mirror); otherwise only https. */
  readonly allowHttp?: boolean;
}

const GiB = 1024 ** 3;

/** Refuses a URL tlr will not fetch from: not https (unless allowed), or not http(s) at all. */
export function checkUrl(url: string, allowHttp = false): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new WeightsError(`${url} is not a URL`);
  }
  if (u.protocol === 'https:' || (u.protocol === 'http:' && allowHttp)) return u;
  if (u.protocol === 'http:')
    throw new WeightsError(
      `refused ${url}: tlr downloads weights only over https (plain http is allowed for a local mirror ` +
        `with TLR_ALLOW_HTTP=1)`,
    );
  throw new WeightsError(`refused ${url}: tlr downloads weights only over https`);
}

/** Follows redirects by hand, each to the same host and scheme only. */
async function fetchSameHost(url: string, signal: AbortSignal, allowHttp: boolean): Promise<Response> {
  const origin = checkUrl(url, allowHttp);
  let at = origin;
  for (let hops = 0; hops <= 5; hops++) {
    let res: Response;
    try {
      res = await fetch(at, { signal, redirect: 'manual' });
    } catch (e) {
      throw new WeightsError(`cannot reach ${url}: ${reason(e)}`);
    }
    if (res.status < 300 || res.status >= 400 || !res.headers.get('location')) return res;
    const next = new URL(res.headers.get('location')!, at);
    if (next.host !== origin.host || next.protocol !== origin.protocol) {
      throw new WeightsError(
        `refused a redirect from ${url} to ${next.href}: tlr follows redirects only within ` +
          `${origin.protocol}//${origin.host}`,
      );
    }
    at = next;
  }
  throw new WeightsError(`${url} redirects more than 5 times`);
}

/**
 * Downloads `url` to `dest` (through an exclusively created temporary file), checking its sha256
 * when given; bounded in size and in time; reports progress. Every failure removes the partial file.
 */
export async function download(url: string, dest: string, opts: DownloadOptions = {}): Promise<string> {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const part = path.join(
    path.dirname(dest),
    `.${path.basename(dest)}.part-${process.pid}-${crypto.randomBytes(6).toString('hex')}`,
  );
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined,
    why = 'no data arrived for too long';
  const poke = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(), opts.idleMs ?? 30_000);
  };
  const deadlineMs = opts.deadlineMs ?? 60 * 60_000,
    max = opts.maxBytes ?? 4 * GiB;
  const deadline = setTimeout(() => {
    why = `it took longer than ${Math.round(deadlineMs / 1000)} s in all`;
    abort.abort();
  }, deadlineMs);
  let received = 0,
    total: number | null = null,
    out: number | null = null;
  try {
    poke();
    const res = await fetchSameHost(url, abort.signal, !!opts.allowHttp).catch((e) => {
      throw abort.signal.aborted ? new WeightsError(`download of ${url} stopped: ${why}`) : e;
    });
    if (!res.ok || !res.body) throw new WeightsError(`download of ${url} failed: HTTP ${res.status} ${res.statusText}`);
    const len = res.headers.get('content-length');
    total = len ? Number(len) : null;
    if (total !== null && total > max)
      throw new WeightsError(`refused ${url}: it is ${total} bytes, more than the ${max} tlr accepts for this file`);
    const hash = createHash('sha256');
    out = fs.openSync(
      part,
      fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0),
      0o644,
    );
    const reader = res.body.getReader();
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (e) {
        throw new WeightsError(
          abort.signal.aborted
            ? `download of ${url} stopped after ${received} bytes: ${why}`
            : `the connection to ${url} was lost after ${received}${total ? ` of ${total}` : ''} bytes: ${reason(e)}`,
        );
      }
      if (chunk.done) break;
      poke();
      received += chunk.value.length;
      if (received > max)
        throw new WeightsError(`refused ${url}: more than the ${max} bytes tlr accepts for this file arrived`);
      hash.update(chunk.value);
      fs.writeSync(out, chunk.value);
      opts.onProgress?.({ url, file: dest, received, total });
    }
    fs.fsyncSync(out);
    if (total !== null && received !== total)
      throw new WeightsError(`the download of ${url} was cut short: ${received} of ${total} bytes arrived`);
    const digest = hash.digest('hex');
    if (opts.sha256 && digest !== opts.sha256)
      throw new WeightsError(
        `${url} has sha256 ${digest}, but ${opts.sha256} was expected: the file is damaged or was replaced`,
      );
    fs.closeSync(out);
    out = null;
    fs.renameSync(part, dest);
    return digest;
  } catch (e) {
    if (out !== null) fs.closeSync(out);
    fs.rmSync(part, { force: true });
    throw e;
  } finally {
    clearTimeout(timer);
    clearTimeout(deadline);
  }
}

function reason(e: unknown): string {
  const err = e as Error & { cause?: Error & { code?: string } };
  if (err.name === 'AbortError') return 'no data arrived for too long';
  return err.cause?.code ?? err.cause?.message ?? err.message;
}

/** sha256 of files read in order (a TF.js model is model.json then its shards). */
export function digestFiles(files: readonly string[]): string {
  const h = createHash('sha256');
  for (const f of files) h.update(fs.readFileSync(f));
  return h.digest('hex');
}
