import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WeightsError } from './tensors.js';

// One file over HTTP(S) into `dest`, through `dest.part`: the destination exists only when the
// whole file arrived. Every failure (status, network, cut short, checksum) removes the part file.

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
}

/** Downloads `url` to `dest` (through DEST.part), checking its sha256 when given; reports progress. */
export async function download(url: string, dest: string, opts: DownloadOptions = {}): Promise<string> {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const part = `${dest}.part`;
  const idle = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const poke = () => {
    clearTimeout(timer);
    timer = setTimeout(() => idle.abort(), opts.idleMs ?? 30_000);
  };
  let received = 0, total: number | null = null;
  try {
    poke();
    let res: Response;
    try {
      res = await fetch(url, { signal: idle.signal, redirect: 'follow' });
    } catch (e) {
      throw new WeightsError(`cannot reach ${url}: ${reason(e)}`);
    }
    if (!res.ok || !res.body) throw new WeightsError(`download of ${url} failed: HTTP ${res.status} ${res.statusText}`);
    const len = res.headers.get('content-length');
    total = len ? Number(len) : null;
    const hash = createHash('sha256');
    const out = fs.openSync(part, 'w');
    try {
      const reader = res.body.getReader();
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (e) {
          throw new WeightsError(`the connection to ${url} was lost after ${received}${total ? ` of ${total}` : ''} bytes: ${reason(e)}`);
        }
        if (chunk.done) break;
        poke();
        hash.update(chunk.value);
        fs.writeSync(out, chunk.value);
        received += chunk.value.length;
        opts.onProgress?.({ url, file: dest, received, total });
      }
      fs.fsyncSync(out);
    } finally {
      fs.closeSync(out);
    }
    if (total !== null && received !== total) throw new WeightsError(`the download of ${url} was cut short: ${received} of ${total} bytes arrived`);
    const digest = hash.digest('hex');
    if (opts.sha256 && digest !== opts.sha256) throw new WeightsError(`${url} has sha256 ${digest}, but ${opts.sha256} was expected: the file is damaged or was replaced`);
    fs.renameSync(part, dest);
    return digest;
  } catch (e) {
    fs.rmSync(part, { force: true });
    throw e;
  } finally {
    clearTimeout(timer);
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
