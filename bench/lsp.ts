// The language server's answers on a long recipe: how long a keystroke's recompile takes, and
// hover and completion on the compiled document (the server compiles once per version and answers
// every request from that). The goal: hover and completion under 50 ms on 200 lines.
//   npx tsx bench/lsp.ts [LINES]      (on the quickstart recipe and its data)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { completion, hover, inlayHints, openDoc } from '../src/lsp/services.js';

const lines = Number(process.argv[2] ?? 200);
const file = path.resolve('recipes/quickstart/fine-tune.tlr');
const base = fs.readFileSync(file, 'utf8');
const pad = Math.max(0, lines - base.split('\n').length);
const text = `${Array.from({ length: pad }, (_, i) => `# note ${i}: why this recipe is as it is`).join('\n')}\n${base}`;
const at = (needle: string) => {
  const line = text.split('\n').findIndex((l) => l.includes(needle));
  return { line, character: text.split('\n')[line]!.indexOf(needle) + needle.length - 1 };
};

const time = (fn: () => unknown, n = 50) => {
  fn();
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t) / 1e6 / n;
};
const recompile = time(() => openDoc(file, text), 20);
const doc = openDoc(file, text);
const rows = [
  ['recompile (a keystroke)', recompile],
  ['hover on the network', time(() => hover(doc, at('mobilenet_v1')))],
  ['hover on a block', time(() => hover(doc, at('block12')))],
  ['hover on the data folder', time(() => hover(doc, at('./clothes')))],
  ['completion of blocks', time(() => completion(doc, { line: at('unfreeze from').line, character: 19 }))],
  ['completion of clause words', time(() => completion(doc, { line: 0, character: 0 }))],
  ['inlay hints', time(() => inlayHints(doc))],
] as const;
console.log(`${text.split('\n').length} lines (${lines} asked)`);
for (const [what, ms] of rows) console.log(`${what.padEnd(28)} ${ms.toFixed(2)} ms`);
console.log(
  `slowest answer after a keystroke: ${(recompile + Math.max(...rows.slice(1).map((r) => r[1]))).toFixed(1)} ms ` +
    `(goal 50)`,
);
