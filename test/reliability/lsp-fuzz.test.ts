import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliArgs } from '../helpers/cli.js';
import { HOSTILE } from '../helpers/hostile.js';
import { rng } from '../../src/data/random.js';

// The language server stays up whatever an editor (or a hostile extension) sends: documents whose text is not a
// string, URIs that name no local file, frames it cannot read (`Content-Length: abc`, `-5`, no header, a short
// body), and thousands of random frames, documents and positions. Every request gets an answer, frames it cannot
// read get JSON-RPC errors, the process never dies, and `shutdown` is still answered at the end.

const frame = (body: string | object) => {
  const b = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${b.length}\r\n\r\n`), b]);
};

/** The server as a child, with every message it wrote parsed. */
function server(cwd: string) {
  const child = spawn(process.execPath, [...cliArgs(), 'lsp', '--stdio'], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  const got: Record<string, unknown>[] = [];
  let buf = Buffer.alloc(0),
    exited: number | null | undefined;
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const n = Number(/Content-Length: (\d+)/.exec(buf.subarray(0, end).toString())![1]);
      if (buf.length < end + 4 + n) return;
      got.push(JSON.parse(buf.subarray(end + 4, end + 4 + n).toString('utf8')));
      buf = buf.subarray(end + 4 + n);
    }
  });
  child.on('exit', (code) => (exited = code));
  const send = (b: Buffer | string | object) =>
    new Promise<void>((r) => child.stdin.write(Buffer.isBuffer(b) ? b : frame(b), () => r()));
  const answered = async (id: number | null, timeout = 30_000) => {
    for (let t = 0; t < timeout; t += 20) {
      const m = got.find((x) => x['id'] === id && ('result' in x || 'error' in x));
      if (m) return m;
      if (exited !== undefined) throw new Error(`the server exited (${exited}) before answering ${id}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no answer to request ${id} in ${timeout} ms; stderr: ${stderr}`);
  };
  return { child, got, send, answered, exited: () => exited, stderr: () => stderr };
}

const WORDS = [
  'from',
  'resnet18',
  'mobilenet_v2',
  'width',
  '0.35',
  'input',
  '224',
  'freeze',
  'until',
  'block3',
  'head',
  'dense(2)',
  'train',
  '10',
  'epochs',
  'on',
  './d',
  'then',
  'unfreeze',
  'lr',
  '{1e-3,',
  '3e-4}',
  'sample',
  '2',
  'vary',
  'together',
  'keep',
  'best',
  'after',
  'split',
  '80/20',
  '#',
  '"',
  '\n',
  '\n',
  '  ',
  '{',
  '}',
  ',',
  '(',
  ')',
  '..',
  'recipe',
  'save',
  'to',
  'batch',
  'augment',
  'flip',
  'class',
  'weights',
  'auto',
  '\t',
  '\r\n',
  '\u202e',
  '\u0000',
  '🐱',
  '%ZZ',
  '-5',
  '1e309',
  'NaN',
];

describe('tlr lsp under hostile messages', () => {
  it('answers every request, refuses bad frames with errors, and never dies', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-lsp-fuzz-'));
    const s = server(dir);
    let id = 0;
    await s.send({
      jsonrpc: '2.0',
      id: ++id,
      method: 'initialize',
      params: { processId: null, rootUri: null, capabilities: {} },
    });
    await s.answered(id);
    await s.send({ jsonrpc: '2.0', method: 'initialized', params: {} });
    const good = `file://${dir}/r.tlr`;
    const hover = async (uri: string, line = 0, character = 1) => {
      await s.send({
        jsonrpc: '2.0',
        id: ++id,
        method: 'textDocument/hover',
        params: { textDocument: { uri }, position: { line, character } },
      });
      return s.answered(id);
    };
    // The cases found by hand.
    for (const text of [null, 42, { a: 1 }, ['x']])
      await s.send({
        jsonrpc: '2.0',
        method: 'textDocument/didOpen',
        params: { textDocument: { uri: good, languageId: 'tlr', version: 1, text } },
      });
    for (const uri of ['file://server/share/x.tlr', 'file:///tmp/%ZZ.tlr', 'file:///tmp/a%2Fb.tlr', 'untitled:1', '']) {
      await s.send({
        jsonrpc: '2.0',
        method: 'textDocument/didOpen',
        params: { textDocument: { uri, languageId: 'tlr', version: 1, text: 'from resnet18\ntrain 1 epoch on ./d\n' } },
      });
      expect((await hover(uri)).error).toBeUndefined();
    }
    for (const bad of [
      'Content-Length: abc\r\n\r\n{}',
      'Content-Length: -5\r\n\r\n',
      '\r\n\r\n{"jsonrpc":"2.0","id":99999,"method":"shutdown"}',
      'Content-Length: 200\r\n\r\n{"jsonrpc":"2.0"}',
    ]) {
      await s.send(bad);
      await hover(good); // read on: answered (the short body gave back the next header)
    }
    expect(
      s.got.filter((m) => m['id'] === null && (m['error'] as { code: number })?.code === -32700).length,
    ).toBeGreaterThanOrEqual(3);
    // Random frames, documents and positions.
    const r = rng(37);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
    const text = () =>
      Array.from({ length: Math.floor(r() * 40) }, () => (r() < 0.1 ? pick(HOSTILE) : pick(WORDS))).join(
        r() < 0.5 ? ' ' : '',
      );
    const num = () => pick([0, 1, 3, 100, -1, 2 ** 31, 1.5, null, '2', Number.MAX_SAFE_INTEGER] as unknown[]);
    const uris = [
      good,
      `file://${dir}/b.tlr`,
      'file://server/share/x.tlr',
      'file:///tmp/%ZZ.tlr',
      'file:///tmp/a%2Fb.tlr',
    ];
    const methods = ['hover', 'completion', 'formatting', 'codeAction', 'inlayHint', 'documentSymbol', 'foldingRange'];
    let requests = 0;
    const open = new Map<string, number>();
    for (let i = 0; i < 2500; i++) {
      const uri = pick(uris),
        roll = r();
      if (roll < 0.2) {
        open.set(uri, (open.get(uri) ?? 0) + 1);
        await s.send({
          jsonrpc: '2.0',
          method: 'textDocument/didOpen',
          params: {
            textDocument: { uri, languageId: 'tlr', version: open.get(uri), text: r() < 0.9 ? text() : num() },
          },
        });
      } else if (roll < 0.4) {
        open.set(uri, (open.get(uri) ?? 0) + 1);
        const range = { start: { line: num(), character: num() }, end: { line: num(), character: num() } };
        await s.send({
          jsonrpc: '2.0',
          method: 'textDocument/didChange',
          params: {
            textDocument: { uri, version: open.get(uri) },
            contentChanges: [r() < 0.5 ? { text: text() } : { range, text: text() }],
          },
        });
      } else if (roll < 0.85) {
        requests++;
        const position =
          r() < 0.8
            ? { line: Math.floor(r() * 6), character: Math.floor(r() * 30) }
            : { line: num(), character: num() };
        const range = { start: position, end: position };
        await s.send({
          jsonrpc: '2.0',
          id: ++id,
          method: `textDocument/${pick(methods)}`,
          params: {
            textDocument: { uri },
            position,
            range,
            context: { diagnostics: [] },
            options: { tabSize: 2, insertSpaces: true },
          },
        });
      } else if (roll < 0.9)
        await s.send({ jsonrpc: '2.0', method: 'textDocument/didClose', params: { textDocument: { uri } } });
      else if (roll < 0.95)
        await s.send(
          pick([
            'Content-Length: x\r\n\r\n',
            'garbage\r\n\r\n',
            frame('not json'),
            frame('[1,2]'),
            frame('{"jsonrpc":"1.0"}'),
          ]),
        );
      else
        await s.send({
          jsonrpc: '2.0',
          id: ++id,
          method: pick(['unknown/method', 'textDocument/hover', '$/cancelRequest']),
          params: pick([null, 5, 'x', {}, []] as unknown[]),
        });
      if (i % 250 === 0) await hover(good);
    }
    await s.send({ jsonrpc: '2.0', id: ++id, method: 'shutdown' });
    expect((await s.answered(id, 120_000))['result']).toBeNull();
    // Every request with an id got an answer (a result or an error).
    const answeredIds = new Set(s.got.filter((m) => 'result' in m || 'error' in m).map((m) => m['id']));
    for (let k = 1; k <= id; k++) expect(answeredIds.has(k), `request ${k} unanswered`).toBe(true);
    expect(requests).toBeGreaterThan(1000);
    expect(s.stderr()).not.toMatch(/internal error|Error: /);
    await s.send({ jsonrpc: '2.0', method: 'exit' });
    for (let t = 0; t < 5000 && s.exited() === undefined; t += 20) await new Promise((res) => setTimeout(res, 20));
    expect(s.exited()).toBe(0);
  }, 300_000);
});
