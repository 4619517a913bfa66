import * as fs from 'node:fs';
import * as path from 'node:path';
import { models } from '../../engines/index.js';
import type { OpenModel, Servable } from '../../engines/types.js';
import { TlrServer, type ServeOptions } from '../../serve/server.js';
import { printable } from '../../printable.js';
import { UsageError, type Output } from '../io.js';
import { numberFlag } from '../number-flag.js';

// `tlr serve MODEL...`: model folders behind the Open Inference Protocol, until SIGTERM or Ctrl-C, which stop taking
// requests and answer those in flight before exiting. Human messages go to stderr; stdout is the access log (NDJSON)
// unless --access-log names a file.

export interface ServeFlags {
  readonly host?: string;
  readonly port?: string;
  readonly maxBatch?: string;
  readonly maxDelay?: string;
  readonly maxConcurrency?: string;
  readonly maxQueue?: string;
  readonly maxBody?: string;
  readonly maxPixels?: string;
  readonly timeout?: string;
  readonly decodeThreads?: string;
  readonly accessLog?: string;
  readonly backend?: string;
}

/** A flag's number, `min` at least (and whole when `whole`). */
const num = (flag: string, v: string | undefined, fallback: number, min: number, whole = true): number =>
  numberFlag(
    flag,
    v,
    fallback,
    (n) => n >= min && (!whole || Number.isInteger(n)),
    `${whole ? 'a whole number' : 'a number'} of at least ${min}`,
  );

/** The settings from the flags (defaults: docs/serving.md). */
export function serveOptions(f: ServeFlags, log: ServeOptions['log']): ServeOptions {
  return {
    host: f.host ?? '127.0.0.1',
    port: num('port', f.port, 8080, 0),
    maxBatch: num('max-batch', f.maxBatch, 32, 1),
    maxDelayMs: num('max-delay', f.maxDelay, 0, 0, false),
    maxConcurrency: num('max-concurrency', f.maxConcurrency, 64, 1),
    maxQueue: num('max-queue', f.maxQueue, 1024, 0),
    maxBodyBytes: num('max-body', f.maxBody, 20, 0.001, false) * 1024 * 1024,
    maxPixels: num('max-pixels', f.maxPixels, 40_000_000, 1),
    maxImages: 256,
    timeoutSeconds: num('timeout', f.timeout, 30, 0.001, false),
    decodeThreads: num('decode-threads', f.decodeThreads, 0, 0),
    log,
  };
}

/**
 * Each operand's name and folder: NAME=DIR, or DIR named by its run's recipe (RUN_DIR/model) or by itself. Names are
 * what URLs hold: letters, digits, `.`, `_`, `-`.
 */
export function namedModels(args: readonly string[]): { name: string; dir: string }[] {
  const out = args.map((a) => {
    const eq = a.indexOf('=');
    const dir = eq > 0 ? a.slice(eq + 1) : a;
    let name = eq > 0 ? a.slice(0, eq) : path.basename(path.resolve(dir)).replace(/\.onnx$/, '');
    const plan = path.join(path.dirname(path.resolve(dir)), 'plan.json');
    if (eq <= 0 && name === 'model' && fs.existsSync(plan)) {
      try {
        name = JSON.parse(fs.readFileSync(plan, 'utf8')).recipe?.name ?? name;
      } catch {
        // an unreadable plan: the folder's own name
      }
    }
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name))
      throw new UsageError(
        `${printable(a)}: the model's name ${JSON.stringify(name)} cannot be in a URL; write NAME=DIR`,
      );
    return { name, dir };
  });
  const seen = new Set<string>();
  for (const m of out) {
    if (seen.has(m.name)) throw new UsageError(`two models are named ${m.name}: name one of them with NAME=DIR`);
    seen.add(m.name);
  }
  return out;
}

/** Where access-log lines go: a file (appended) or stdout. */
function accessLog(file: string | undefined, io: Output): { log: ServeOptions['log']; close: () => void } {
  if (!file) return { log: (l) => io.out(JSON.stringify(l)), close: () => undefined };
  const fd = fs.openSync(file, 'a');
  return { log: (l) => fs.writeSync(fd, `${JSON.stringify(l)}\n`), close: () => fs.closeSync(fd) };
}

/** `tlr serve`: resolves (exit 0) once a signal has drained the server. */
export async function serveCommand(args: readonly string[], f: ServeFlags, io: Output): Promise<number> {
  if (!args.length) throw new UsageError('tlr serve needs at least one model folder (RUN_DIR/model)');
  const named = namedModels(args);
  const out = accessLog(f.accessLog, io);
  const o = serveOptions(f, out.log);
  const service = await models();
  const opened: OpenModel[] = [],
    ready = new Map<string, Servable>();
  try {
    for (const m of named) {
      // An exported ONNX file runs on its own; a model folder on the engine predict uses.
      if (m.dir.endsWith('.onnx') && fs.statSync(m.dir, { throwIfNoEntry: false })?.isFile()) {
        ready.set(m.name, await service.serveOnnx(m.dir));
        continue;
      }
      const open = await service.open(m.dir, f.backend);
      opened.push(open);
      ready.set(m.name, await service.serve(open, { maxBatch: o.maxBatch }));
    }
    const server = new TlrServer(ready, o);
    const url = await server.listen().catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EADDRINUSE' && e.code !== 'EACCES' && e.code !== 'EADDRNOTAVAIL') throw e;
      throw new UsageError(`cannot listen on ${o.host}:${o.port} (${e.code}): choose another --port or --host`);
    });
    for (const [name, m] of ready)
      io.err(
        printable(
          `serving ${name} (${m.task}, ${m.labels.length} labels, ${m.inputSize} px, on ${m.engine}) at ` +
            `${url}/v2/models/${name}`,
        ),
      );
    await new Promise<void>((done) => {
      const stop = () => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        io.err('tlr serve: stopping; answering the requests in flight');
        void server.close().then(done);
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    return 0;
  } finally {
    for (const m of ready.values()) await m.close();
    for (const m of opened) m.dispose();
    out.close();
  }
}
