// Fashion-MNIST: runs the recipes in recipes/fashion-mnist (or takes finished run folders) and
// prints their test accuracy and time beside the published figures.
//   npx tsx bench/fashion-mnist.ts                  run every recipe (needs ../shared; the torch engine for one)
//   npx tsx bench/fashion-mnist.ts RUN_DIR...       compare finished runs
import * as fs from 'node:fs';
import * as path from 'node:path';
import { main } from '../src/cli/main.js';

const PUBLISHED: [string, string, number][] = [
  ['from scratch', 'AlexNet', 0.8043],
  ['from scratch', 'VGG16', 0.7513],
  ['from scratch', 'VGG19', 0.7664],
  ['transfer', 'AlexNet', 0.8709],
  ['transfer', 'VGG16', 0.8627],
  ['transfer', 'VGG19', 0.8619],
  ['transfer', 'ResNet50', 0.8463],
  ['transfer', 'DenseNet121', 0.8509],
  ['transfer', 'DenseNet161', 0.8727],
];

const root = new URL('..', import.meta.url).pathname;
let dirs = process.argv.slice(2);
if (!dirs.length) {
  // Each recipe on the engine its row in docs/performance.md names: ResNet-18 from scratch needs the torch engine's
  // speed.
  const recipes: [string, string][] = [
    ['scratch', 'tfjs'],
    ['feature-extraction', 'tfjs'],
    ['fine-tune', 'tfjs'],
    ['resnet18-scratch', 'torch'],
  ];
  dirs = [];
  for (const [name, engine] of recipes) {
    const r = path.join(root, 'recipes/fashion-mnist', `${name}.tlr`);
    const lines: string[] = [];
    const code = await main(['run', '--json', '--engine', engine, r], {
      out: (l) => lines.push(l),
      err: (l) => process.stderr.write(`${l}\n`),
    });
    const fin = lines.map((l) => JSON.parse(l)).find((e) => e.type === 'finished');
    if (code !== 0 || !fin) throw new Error(`${r} failed`);
    dirs.push(fin.runDir);
  }
}
const rows = dirs.map((d) => {
  const plan = JSON.parse(fs.readFileSync(path.join(d, 'plan.json'), 'utf8'));
  const report = JSON.parse(fs.readFileSync(path.join(d, 'report.json'), 'utf8'));
  const mode = plan.model.weights.kind === 'none' ? 'from scratch' : 'transfer';
  // A recipe that writes no rate anywhere (every stage's rate a default or `lr auto`) says so.
  const text = fs.existsSync(path.join(d, 'recipe.tlr')) ? fs.readFileSync(path.join(d, 'recipe.tlr'), 'utf8') : '';
  const noLr = text && !/\blr\s+[\d.]/.test(text.replace(/#.*$/gm, '')) ? ', no lr written' : '';
  return [
    mode,
    `tlr: ${plan.recipe.name} (${plan.model.name} ${plan.model.width ?? ''} @${plan.model.inputSize}${noLr})`,
    report.evaluation.accuracy as number,
    `${(report.seconds / 60).toFixed(1)} min on this CPU (${report.backend ?? 'backend not recorded'})`,
  ] as const;
});
console.log('Fashion-MNIST test accuracy (10,000 test images)\n');
const all = [...PUBLISHED.map(([m, n, a]) => [m, `published: ${n}`, a, '3 min to 4 h'] as const), ...rows].sort(
  (a, b) => (a[0] === b[0] ? b[2] - a[2] : a[0] < b[0] ? -1 : 1),
);
for (const [m, n, a, t] of all)
  console.log(`${m.padEnd(13)} ${n.padEnd(52)} ${(a * 100).toFixed(2).padStart(6)}%   ${t}`);
