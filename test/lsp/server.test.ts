import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliArgs } from '../helpers/cli.js';
import { makeWorld } from '../helpers/run-fixture.js';

// `tlr lsp` spoken to as an editor does: a child process, JSON-RPC with Content-Length framing
// over its stdin and stdout, from initialize to exit.

let world: ReturnType<typeof makeWorld>;
let child: ChildProcess;
let rpc: MessageConnection;
let uri: string;
const diagnostics: { uri: string; diagnostics: { code: string; message: string; range: unknown }[] }[] = [];

const TEXT = `recipe "clothes"
from resnet18
  input 64
freeze until block_3
head dense(2)
train 4 epochs on ./data
  optimizer adam
then unfreeze from block3 train 2 epochs
split 50/25/25
`;

/** The diagnostics published after the document reached `version`. */
async function published(n: number) {
  for (let i = 0; i < 200 && diagnostics.length < n; i++) await new Promise((r) => setTimeout(r, 50));
  return diagnostics[n - 1]!;
}

beforeAll(async () => {
  world = makeWorld({ perClass: 8 });
  const file = path.join(world.dir, 'r.tlr');
  fs.writeFileSync(file, TEXT);
  uri = pathToFileURL(file).href;
  child = spawn(process.execPath, [...cliArgs(), 'lsp', '--stdio'], {
    cwd: world.dir,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  rpc = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  rpc.onNotification('textDocument/publishDiagnostics', (p) => diagnostics.push(p));
  rpc.listen();
  const init = await rpc.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
  expect((init as { capabilities: object }).capabilities).toMatchObject({
    hoverProvider: true,
    documentFormattingProvider: true,
    inlayHintProvider: true,
  });
  await rpc.sendNotification('initialized', {});
  await rpc.sendNotification('textDocument/didOpen', {
    textDocument: { uri, languageId: 'tlr', version: 1, text: TEXT },
  });
}, 60_000);

afterAll(async () => {
  child?.kill();
  fs.rmSync(world.dir, { recursive: true, force: true });
});

describe('tlr lsp over stdio', () => {
  it('publishes the checker’s diagnostics (codes, ranges, hints), data folder included', async () => {
    const d = await published(1);
    expect(d.uri).toBe(uri);
    expect(d.diagnostics.map((x) => x.code).sort()).toEqual(['TLR1101', 'TLR1204']);
    const freeze = d.diagnostics.find((x) => x.code === 'TLR1101')!;
    expect(freeze.range).toEqual({ start: { line: 3, character: 13 }, end: { line: 3, character: 20 } });
    expect(freeze.message).toContain('hint: did you mean `block3`');
  });

  it('offers the hints as quick fixes, and the fixed text checks', async () => {
    const actions = (await rpc.sendRequest('textDocument/codeAction', {
      textDocument: { uri },
      range: { start: { line: 3, character: 15 }, end: { line: 3, character: 15 } },
      context: { diagnostics: [] },
    })) as { title: string; edit: { changes: Record<string, { newText: string }[]> } }[];
    expect(actions[0]!.title).toBe('TLR1101: replace with block3');
    const head = (await rpc.sendRequest('textDocument/codeAction', {
      textDocument: { uri },
      range: { start: { line: 4, character: 6 }, end: { line: 4, character: 6 } },
      context: { diagnostics: [] },
    })) as { title: string }[];
    expect(head.map((a) => a.title)).toEqual(['TLR1204: replace with dense(3)']);
    const fixed = TEXT.replace('block_3', 'block3').replace('dense(2)', 'dense(3)');
    await rpc.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: 2 },
      contentChanges: [{ text: fixed }],
    });
    expect((await published(2)).diagnostics).toEqual([]);
  });

  it('hovers: a clause word, a network, a block, the data folder', async () => {
    const h = async (line: number, character: number) =>
      (
        (await rpc.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line, character } })) as {
          contents: { value: string };
        } | null
      )?.contents.value;
    expect(await h(6, 4)).toBe('`optimizer adam | sgd | rmsprop`');
    const net = await h(1, 7);
    // The recipe's own network: its input size is the recipe's (input 64).
    expect(net).toMatch(/^\*\*resnet18\*\*: .*\n\ninput 64×64 · \d+ layers, 11,176,512 parameters/);
    // Where its weights are here: the CLI hands the server its lookup.
    expect(net).toMatch(
      /ImageNet weights: https:\S+ \((in \$TLR_WEIGHTS_DIR|cached here|not here yet: tlr run downloads them, tlr fetch gets them now)\)/,
    );
    expect(await h(3, 15)).toMatch(
      /^\*\*block3\*\* of resnet18: layers \d+–\d+ \(.*\), 2,099,712 parameters; output 4×4×256/,
    );
    expect(await h(5, 20)).toMatch(/3 classes, 12 training, 6 validation, 6 test images/);
  });

  it('completes networks, the recipe network’s blocks and layers, and optimizers', async () => {
    const c = async (text: string, line: number) => {
      await rpc.sendNotification('textDocument/didChange', {
        textDocument: { uri, version: 10 + line + text.length },
        contentChanges: [{ text }],
      });
      const lines = text.split('\n');
      return (
        (await rpc.sendRequest('textDocument/completion', {
          textDocument: { uri },
          position: { line, character: lines[line]!.length },
        })) as { label: string }[]
      ).map((x) => x.label);
    };
    const base = TEXT.replace('block_3', 'block3').replace('dense(2)', 'dense(3)');
    expect(await c(base.replace('from resnet18', 'from '), 1)).toEqual(
      expect.arrayContaining(['resnet18', 'mobilenet_v2']),
    );
    const blocks = await c(base.replace('freeze until block3', 'freeze until '), 3);
    expect(blocks).toEqual(expect.arrayContaining(['stem', 'block1', 'block4', 'pool', 'layer3.0.conv1']));
    expect(await c(base.replace('  optimizer adam', '  optimizer '), 6)).toEqual(['adam', 'sgd', 'rmsprop']);
    expect(await c(base.replace('  optimizer adam', ''), 6)).toEqual(expect.arrayContaining(['batch', 'lr', 'then']));
  });

  it('formats as tlr fmt does; inlay hints say what each stage trains; stages are symbols', async () => {
    const messy = TEXT.replace('block_3', 'block3')
      .replace('dense(2)', 'dense(3)')
      .replace('  input 64', 'input    64');
    await rpc.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: 100 },
      contentChanges: [{ text: messy }],
    });
    const edits = (await rpc.sendRequest('textDocument/formatting', {
      textDocument: { uri },
      options: { tabSize: 2, insertSpaces: true },
    })) as { newText: string }[];
    expect(edits).toHaveLength(1);
    expect(edits[0]!.newText).toContain('from resnet18\n  input 64\n');
    const hints = (await rpc.sendRequest('textDocument/inlayHint', {
      textDocument: { uri },
      range: { start: { line: 0, character: 0 }, end: { line: 20, character: 0 } },
    })) as { label: string; position: { line: number } }[];
    expect(hints.map((x) => [x.position.line, x.label.trim().replace(/[\d,]+/g, 'N')])).toEqual([
      [1, 'input N · features N'],
      [5, 'trains N · frozen N · frozen part cached'],
      [7, 'trains N · frozen N · frozen part cached'],
    ]);
    const symbols = (await rpc.sendRequest('textDocument/documentSymbol', { textDocument: { uri } })) as {
      name: string;
    }[];
    expect(symbols.map((s) => s.name)).toEqual(['stage 1: 4 epochs', 'stage 2: 2 epochs']);
  });

  it('survives any text: mutated recipes and random edits get an answer to every request', async () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let text = TEXT;
    for (let i = 0; i < 40; i++) {
      const at = rand(text.length + 1);
      const junk = ['(', ')', '"', '\u0000', 'then ', 'freeze until ', '\n', '..', '1e999', 'é', '{'][rand(11)]!;
      text = rand(3) === 0 ? text.slice(0, at) + text.slice(at + rand(6)) : text.slice(0, at) + junk + text.slice(at);
      await rpc.sendNotification('textDocument/didChange', {
        textDocument: { uri, version: 1000 + i },
        contentChanges: [{ text }],
      });
      const line = rand(text.split('\n').length);
      const position = { line, character: rand(20) };
      await rpc.sendRequest('textDocument/hover', { textDocument: { uri }, position });
      await rpc.sendRequest('textDocument/completion', { textDocument: { uri }, position });
      await rpc.sendRequest('textDocument/formatting', {
        textDocument: { uri },
        options: { tabSize: 2, insertSpaces: true },
      });
      await rpc.sendRequest('textDocument/inlayHint', {
        textDocument: { uri },
        range: { start: { line: 0, character: 0 }, end: { line: 99, character: 0 } },
      });
    }
    expect(child.exitCode).toBeNull();
  }, 60_000);

  it('shuts down and exits when asked', async () => {
    await rpc.sendRequest('shutdown');
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await rpc.sendNotification('exit');
    expect(await exited).toBe(0);
  });
});
