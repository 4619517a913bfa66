import {
  AbstractMessageReader,
  type DataCallback,
  type Disposable,
  type Message,
  type MessageWriter,
} from 'vscode-languageserver/node.js';

// The server's side of the wire, for an editor (or a pull request's fuzzer) that sends anything. vscode-jsonrpc's
// reader stops for good at a frame it cannot read (`Content-Length: abc`, `-5`, a missing header, a short body);
// this one answers such a frame with a JSON-RPC error and reads on from the next header. Messages whose document
// fields are not what the protocol says (a didOpen whose text is null, a number, an object) are refused here, at the
// edge, so the services only ever see well-formed documents.

/** The largest message read: a recipe is a page; a larger body is refused, not buffered. */
export const MAX_BODY = 32 * 1024 * 1024;
const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /^content-length:[ \t]*(\S*)[ \t]*$/im;

/** JSON-RPC's codes for what the reader refuses. */
const PARSE_ERROR = -32700,
  INVALID_REQUEST = -32600,
  INVALID_PARAMS = -32602;

type Refuse = (code: number, message: string, id?: number | string | null) => void;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Why a message's document fields are not the protocol's, or null. */
export function documentProblem(m: Record<string, unknown>): string | null {
  const p = m['params'];
  const method = m['method'];
  if (typeof method !== 'string' || !method.startsWith('textDocument/')) return null;
  if (!isObject(p) || !isObject(p['textDocument']) || typeof p['textDocument']['uri'] !== 'string')
    return `${method}: params.textDocument.uri must be a string`;
  const doc = p['textDocument'];
  if (method === 'textDocument/didOpen') {
    if (typeof doc['text'] !== 'string') return 'textDocument/didOpen: params.textDocument.text must be a string';
    if (typeof doc['version'] !== 'number') return 'textDocument/didOpen: params.textDocument.version must be a number';
  }
  if (method === 'textDocument/didChange') {
    const changes = p['contentChanges'];
    if (typeof doc['version'] !== 'number')
      return 'textDocument/didChange: params.textDocument.version must be a number';
    if (!Array.isArray(changes) || !changes.every((c) => isObject(c) && typeof c['text'] === 'string' && rangeOk(c)))
      return 'textDocument/didChange: each content change needs a string text (and, if any, a range of whole numbers)';
  }
  const pos = p['position'];
  if (pos !== undefined && !positionOk(pos)) return `${method}: params.position must hold whole numbers from 0`;
  return null;
}

const positionOk = (p: unknown): boolean =>
  isObject(p) &&
  Number.isSafeInteger(p['line']) &&
  Number.isSafeInteger(p['character']) &&
  (p['line'] as number) >= 0 &&
  (p['character'] as number) >= 0;

const rangeOk = (c: Record<string, unknown>): boolean =>
  c['range'] === undefined ||
  (isObject(c['range']) && positionOk(c['range']['start']) && positionOk(c['range']['end']));

/** Reads framed JSON-RPC messages from a stream; refuses what it cannot read, through `refuse`, and reads on. */
export class RobustMessageReader extends AbstractMessageReader {
  private buffer = Buffer.alloc(0);
  private callback: DataCallback | null = null;

  constructor(
    private readonly readable: NodeJS.ReadableStream,
    private readonly refuse: Refuse,
  ) {
    super();
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    const onData = (d: Buffer) => this.onData(d);
    this.readable.on('data', onData);
    this.readable.on('error', (e: Error) => this.fireError(e));
    this.readable.on('close', () => this.fireClose());
    this.readable.on('end', () => this.fireClose());
    return { dispose: () => this.readable.off('data', onData) };
  }

  private onData(data: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, data]);
    for (;;) {
      const end = this.buffer.indexOf(HEADER_END);
      if (end < 0) {
        // No header end yet. Garbage that will never frame (no header start in 64 KiB) is dropped.
        if (this.buffer.length > 65536 && !/content-length/i.test(this.buffer.toString('latin1'))) {
          this.refuse(PARSE_ERROR, 'no message header (Content-Length) in what was sent; it was dropped');
          this.buffer = Buffer.alloc(0);
        }
        return;
      }
      const header = this.buffer.subarray(0, end).toString('ascii');
      const length = CONTENT_LENGTH.exec(header)?.[1];
      if (length === undefined || !/^\d+$/.test(length) || Number(length) > MAX_BODY) {
        this.refuse(
          PARSE_ERROR,
          length === undefined
            ? 'a message header without Content-Length'
            : `Content-Length ${JSON.stringify(length)} is not a whole number of bytes up to ${MAX_BODY}`,
        );
        this.buffer = this.buffer.subarray(end + HEADER_END.length);
        continue;
      }
      const start = end + HEADER_END.length,
        n = Number(length);
      if (this.buffer.length < start + n) return;
      const body = this.buffer.subarray(start, start + n);
      this.buffer = this.buffer.subarray(start + n);
      this.deliver(body);
    }
  }

  /** One body: parsed and checked, or refused. A short body that swallowed the next header gives it back. */
  private deliver(body: Buffer): void {
    let m: unknown;
    try {
      m = JSON.parse(body.toString('utf8'));
    } catch {
      const next = body.indexOf('Content-Length:');
      if (next > 0) this.buffer = Buffer.concat([body.subarray(next), this.buffer]);
      this.refuse(PARSE_ERROR, 'a message body that is not JSON (or shorter than its Content-Length says)');
      return;
    }
    if (!isObject(m) || m['jsonrpc'] !== '2.0') {
      this.refuse(INVALID_REQUEST, 'a message that is not a JSON-RPC 2.0 object');
      return;
    }
    const id = typeof m['id'] === 'number' || typeof m['id'] === 'string' ? m['id'] : null;
    const problem = documentProblem(m);
    if (problem) {
      this.refuse(INVALID_PARAMS, problem, 'method' in m && 'id' in m ? id : undefined);
      return;
    }
    this.callback?.(m as unknown as Message);
  }
}

/**
 * How the reader refuses: an error response where the message had an id (or could not be read: id null, as JSON-RPC
 * says), else a log message to the editor (a notification gets no response).
 */
export const refuseThrough =
  (writer: MessageWriter): Refuse =>
  (code, message, id) => {
    const out =
      id === undefined && code === INVALID_PARAMS
        ? { jsonrpc: '2.0', method: 'window/logMessage', params: { type: 1, message: `tlr lsp: ${message}` } }
        : { jsonrpc: '2.0', id: id ?? null, error: { code, message } };
    void writer.write(out as unknown as Message).catch(() => {});
  };
