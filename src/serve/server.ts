import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Servable } from '../engines/types.js';
import { decodeRgb, ImageError, normalize } from '../runtime/images/image.js';
import { resizerOf } from '../runtime/images/resize.js';
import { rankLabels } from '../runtime/ranked.js';
import { TLR_VERSION } from '../version.js';
import { Admission } from './admission.js';
import { Batcher } from './batcher.js';
import { DecodePool, ImageRefused } from './decode-pool.js';
import { ServeMetrics } from './metrics.js';
import { HEADER_LENGTH, inferRequest, inferResponse, modelMetadata, RequestError } from './oip.js';

// `tlr serve`'s HTTP server, on Node's own http module: a handful of routes, and every limit (body size, pixels,
// concurrency, time) is ours to apply before any work, with nothing between the socket and the handler to configure
// around. Routes: the Open Inference Protocol's health, metadata and infer (REST, JSON tensors), `classify` (image
// bytes in, labels out) and Prometheus' /metrics. Each answer is one NDJSON line in the access log.

export interface ServeOptions {
  readonly host: string;
  readonly port: number;
  readonly maxBatch: number;
  readonly maxDelayMs: number;
  /** Inference requests (infer, classify) answered at once; more wait. */
  readonly maxConcurrency: number;
  /** Inference requests that wait for a place (in arrival order, bodies unread); more get 503. */
  readonly maxQueue: number;
  readonly maxBodyBytes: number;
  /** Pixels (width × height) of an image sent to classify, read from its header before decoding. */
  readonly maxPixels: number;
  /** Images in one infer request. */
  readonly maxImages: number;
  /** Seconds for a request to arrive, and for its answer once it has. */
  readonly timeoutSeconds: number;
  /** Threads that decode classify's images (0: the thread that answers HTTP). */
  readonly decodeThreads: number;
  /** Where each answer's access-log line goes (one JSON object). */
  readonly log: (line: Record<string, unknown>) => void;
}

export interface Served {
  readonly name: string;
  readonly model: Servable;
}

interface Route {
  readonly route: string;
  readonly status: number;
  readonly body: unknown;
  /** Tensor bytes after the JSON body (the binary tensor data extension). */
  readonly bytes?: Buffer;
  readonly model?: string;
  readonly images?: number;
}

type Handler = (req: http.IncomingMessage, url: URL, name: string) => Promise<Route>;

/** nginx's status for a client that closed its connection before the answer (logged; nobody reads it). */
const CLIENT_GONE = 499;

/** How long the rest of a refused body is read and dropped before its connection is cut. */
const DISCARD_MS = 5000;

/** A path's route, as /metrics counts refused requests: infer, classify, metadata, or other. */
const routeOf = (p: string): string =>
  /\/infer$/.test(p)
    ? 'infer'
    : /\/classify$/.test(p)
      ? 'classify'
      : /^\/v2\/models\/[^/]+$/.test(p)
        ? 'metadata'
        : 'other';

/** A model name from the path, percent-decoded; a RequestError when its escapes are not UTF-8 (%ZZ, %C3). */
function decodedName(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new RequestError(
      400,
      `the path's model name ${JSON.stringify(raw.slice(0, 64))} is not valid percent-encoding`,
    );
  }
}

export class TlrServer {
  readonly metrics: ServeMetrics;
  private readonly batchers = new Map<string, Batcher>();
  private readonly http: http.Server;
  private readonly admission: Admission;
  /** Handlers still working, answered or not (a 504's work, a gone client's), for close() to wait for. */
  private readonly running = new Set<Promise<Route>>();
  private draining = false;
  private readonly decoder: DecodePool | null;

  constructor(
    private readonly models: ReadonlyMap<string, Servable>,
    private readonly o: ServeOptions,
  ) {
    const admission = new Admission(o.maxConcurrency, o.maxQueue);
    this.admission = admission;
    this.metrics = new ServeMetrics(() => admission);
    for (const [name, m] of models) {
      const batch = { maxBatch: o.maxBatch, maxDelayMs: o.maxDelayMs };
      this.batchers.set(
        name,
        new Batcher(
          (x, n) => m.run(x, n),
          m.labels.length,
          batch,
          (k, s) => this.metrics.batch(k, s),
        ),
      );
    }
    this.decoder = o.decodeThreads > 0 ? DecodePool.start(o.decodeThreads) : null;
    this.http = http.createServer((req, res) => void this.answer(req, res));
    this.http.requestTimeout = o.timeoutSeconds * 1000;
    this.http.headersTimeout = Math.min(o.timeoutSeconds * 1000, 60_000);
  }

  /** Listens; the address it got (port 0: any free port). */
  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.o.port, this.o.host, () => {
        const a = this.http.address() as AddressInfo;
        resolve(`http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
      });
    });
  }

  /** Stops taking connections, answers what is in flight, then resolves (SIGTERM's drain). */
  async close(): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((done) => this.http.close(() => done()));
    this.http.closeIdleConnections();
    // Answers sent while draining close their connections (connection: close), so the server closes once the last
    // one is out; a client that never reads its answer is cut off after --timeout.
    const cut = setTimeout(() => this.http.closeAllConnections(), this.o.timeoutSeconds * 1000);
    await closed;
    clearTimeout(cut);
    // Work whose client has gone is still in a batch: it ends before the models are closed under it.
    await Promise.allSettled(this.running);
    await this.decoder?.close();
  }

  private async answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const t0 = performance.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    let r: Route;
    try {
      r = await this.route(req, res, url);
    } catch (e) {
      const known = e instanceof RequestError;
      const status = known ? e.status : 500;
      r = { route: routeOf(url.pathname), status, body: { error: known ? e.message : 'internal error' } };
      if (!known) this.o.log({ level: 'error', message: (e as Error).stack ?? String(e) });
    }
    this.send(req, res, r);
    const seconds = (performance.now() - t0) / 1000;
    this.metrics.answered(r.route, r.status, seconds);
    this.o.log({
      time: new Date().toISOString(),
      method: req.method,
      path: url.pathname,
      status: r.status,
      ms: +(seconds * 1000).toFixed(3),
      ...(r.model ? { model: r.model } : {}),
      ...(r.images ? { images: r.images } : {}),
      remote: req.socket.remoteAddress ?? null,
    });
  }

  private send(req: http.IncomingMessage, res: http.ServerResponse, r: Route): void {
    const text = typeof r.body === 'string';
    let body: string | Buffer = text ? (r.body as string) : `${JSON.stringify(r.body)}\n`;
    const headers: http.OutgoingHttpHeaders = {
      'content-type': text ? this.metrics.registry.contentType : 'application/json',
    };
    if (r.bytes) {
      const json = Buffer.from(JSON.stringify(r.body));
      body = Buffer.concat([json, r.bytes]);
      headers['content-type'] = 'application/octet-stream';
      headers[HEADER_LENGTH] = json.length;
    }
    headers['content-length'] = Buffer.byteLength(body);
    if (r.status === 503 && !this.draining) headers['retry-after'] = '1';
    // A connection whose body we refused unread closes after the answer: its client may not be the kind to reuse.
    if (!req.complete || this.draining) headers.connection = 'close';
    const answer = () => res.writeHead(r.status, headers).end(body);
    if (req.complete) answer();
    else this.discard(req, answer);
  }

  /**
   * The rest of a body we refused, read and dropped, then the answer: a client still sending gets it, not a reset
   * connection (closing mid-upload would cut its write). One that sends for longer than DISCARD_MS is cut off.
   */
  private discard(req: http.IncomingMessage, then: () => void): void {
    const cut = setTimeout(() => req.socket.destroy(), DISCARD_MS);
    req.once('end', () => {
      clearTimeout(cut);
      then();
    });
    req.once('close', () => clearTimeout(cut));
    req.resume();
  }

  private route(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<Route> {
    const p = url.pathname;
    if (p === '/metrics') return this.get(req, 'metrics', async () => this.metrics.registry.metrics());
    if (p === '/v2/health/live') return this.get(req, 'live', async () => ({ live: true }));
    if (p === '/v2/health/ready')
      return this.draining
        ? Promise.resolve({ route: 'ready', status: 503, body: { ready: false } })
        : this.get(req, 'ready', async () => ({ ready: true }));
    if (p === '/v2')
      return this.get(req, 'server', async () => ({
        name: 'tlr',
        version: TLR_VERSION,
        extensions: ['binary_tensor_data'],
      }));
    const m = /^\/v2\/models\/([^/]+)(?:\/versions\/1)?(\/ready|\/infer|\/classify)?$/.exec(p);
    if (!m) throw new RequestError(404, `no route ${p}: see GET /v2/models/NAME, POST /v2/models/NAME/infer`);
    const name = decodedName(m[1]!);
    const model = this.models.get(name);
    if (!model)
      throw new RequestError(
        404,
        `no model named ${JSON.stringify(name)}; serving ${[...this.models.keys()].join(', ')}`,
      );
    if (!m[2]) return this.get(req, 'metadata', async () => modelMetadata(name, model));
    if (m[2] === '/ready')
      return this.draining
        ? Promise.resolve({ route: 'model-ready', status: 503, body: { name, ready: false } })
        : this.get(req, 'model-ready', async () => ({ name, ready: true }));
    return this.inference(req, res, url, name, m[2] === '/infer' ? this.infer : this.classify);
  }

  private async get(req: http.IncomingMessage, route: string, body: () => Promise<unknown>): Promise<Route> {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new RequestError(405, `${route} takes GET`);
    return { route, status: 200, body: await body() };
  }

  /**
   * An infer or classify request within the concurrency limit (after waiting for a place when every one is taken)
   * and the time limit, which counts the wait.
   */
  private async inference(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    name: string,
    handler: Handler,
  ): Promise<Route> {
    if (req.method !== 'POST') throw new RequestError(405, 'inference takes POST');
    if (this.draining) throw new RequestError(503, 'the server is shutting down');
    const entry = this.admission.enter();
    if (entry === 'full')
      throw new RequestError(
        503,
        `${this.o.maxConcurrency} requests are being answered (--max-concurrency) and ${this.o.maxQueue} are waiting` +
          ' (--max-queue); retry',
      );
    let timer: NodeJS.Timeout | undefined;
    let placed = entry === null;
    try {
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new RequestError(504, `no answer within ${this.o.timeoutSeconds} s (--timeout)`)),
          this.o.timeoutSeconds * 1000,
        );
      });
      if (entry) await this.wait(entry.ready, late, res);
      placed = true;
      const work = handler.call(this, req, url, name);
      this.running.add(work);
      const done = () => this.running.delete(work);
      work.then(done, done);
      return await Promise.race([work, late]);
    } finally {
      clearTimeout(timer);
      if (placed) this.admission.leave();
      else if (entry) this.admission.withdraw(entry.ticket);
    }
  }

  /** Waits for a place; rejects when the time runs out or the client goes first. */
  private async wait(ready: Promise<void>, late: Promise<never>, res: http.ServerResponse): Promise<void> {
    const gone = new Promise<never>((_, reject) =>
      res.once('close', () => reject(new RequestError(CLIENT_GONE, 'the client closed its connection while waiting'))),
    );
    await Promise.race([ready, late, gone]);
  }

  private async infer(req: http.IncomingMessage, _url: URL, name: string): Promise<Route> {
    const model = this.models.get(name)!;
    const length = req.headers[HEADER_LENGTH];
    const r = inferRequest(await this.body(req), Array.isArray(length) ? length[0] : length, model, this.o.maxImages);
    const y = await this.batchers.get(name)!.submit(r.x, r.n);
    const { json, bytes } = inferResponse(name, model, y, r);
    return { route: 'infer', status: 200, body: json, ...(bytes ? { bytes } : {}), model: name, images: r.n };
  }

  private async classify(req: http.IncomingMessage, url: URL, name: string): Promise<Route> {
    const model = this.models.get(name)!;
    const k = url.searchParams.has('top') ? Number(url.searchParams.get('top')) : 3;
    if (!Number.isInteger(k) || k < 1) throw new RequestError(400, 'top must be a whole number of at least 1');
    const x = await this.decode(await this.body(req), model);
    const y = await this.batchers.get(name)!.submit(x, 1);
    const body = { model_name: name, ...rankLabels(model.labels, model.thresholds, y, k) };
    return { route: 'classify', status: 200, body, model: name, images: 1 };
  }

  /** An image's bytes as the model's input, decoded as `tlr predict` decodes (on a decoding thread when there are). */
  private async decode(bytes: Buffer, model: Servable): Promise<Float32Array> {
    const size = model.inputSize;
    try {
      if (this.decoder)
        return await this.decoder.decode(bytes, { size, maxPixels: this.o.maxPixels, pre: model.preprocessing });
      const rgb = await decodeRgb(bytes, size, 'the request body', this.o.maxPixels, resizerOf(model.preprocessing));
      return normalize(rgb, model.preprocessing);
    } catch (e) {
      if (e instanceof ImageError || e instanceof ImageRefused) throw new RequestError(400, e.message);
      throw e;
    }
  }

  /** The request's body, at most maxBodyBytes (413 past it, before reading more). */
  private body(req: http.IncomingMessage): Promise<Buffer> {
    const max = this.o.maxBodyBytes;
    const too = () => new RequestError(413, `the body is larger than ${max} bytes (--max-body)`);
    if (Number(req.headers['content-length'] ?? 0) > max) return Promise.reject(too());
    // Events, not an async iterator: leaving one early destroys the request, and its client would get a reset
    // instead of the 413 (what follows the limit is dropped by discard()).
    return new Promise((resolve, reject) => {
      const parts: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        if (size > max) return;
        size += chunk.length;
        if (size > max) reject(too());
        else parts.push(chunk);
      });
      req.on('end', () =>
        size > max
          ? undefined
          : size
            ? resolve(Buffer.concat(parts))
            : reject(new RequestError(400, 'the body is empty')),
      );
      // A client gone mid-body ('aborted'): nobody is there to read an answer.
      req.on('error', (e) =>
        reject(req.complete ? e : new RequestError(CLIENT_GONE, 'the client closed its connection mid-body')),
      );
    });
  }
}
