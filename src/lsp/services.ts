import * as fs from 'node:fs';
import * as path from 'node:path';
import { format } from '../compiler/index.js';
import { CLAUSES } from '../compiler/clauses.js';
import { MULTI_LABEL } from '../compiler/ast.js';
import { CODES } from '../compiler/codes.js';
import type { Diagnostic } from '../compiler/diagnostics.js';
import type { Span } from '../compiler/source.js';
import { AUGMENTATIONS, METRIC_ALIASES, METRICS, OPTIMIZERS, SCHEDULES } from '../compiler/check/training.js';
import { family, FAMILIES, MODEL_NAMES } from '../zoo/catalog.js';
import { ACTIVATIONS, HEAD_KINDS } from '../zoo/head-layers.js';
import { IMAGE_EXTENSIONS } from '../data/layout.js';
import { fmtInt } from '../review/phrases.js';

export * from './document.js';
export { hover, setWeightsWhere, type WeightsWhere } from './hover.js';
import { modelOf, toRange, view, viewAt, type Doc, type Pos, type Range, type TextEdit } from './document.js';

/** Metric names a recipe may write: the plan's, and `map` for val_map. */
const METRIC_WORDS = [...METRICS, ...Object.keys(METRIC_ALIASES)];

// What an editor asks about a recipe, answered from the compiler, the clause table and the zoo:
// no second parser, no second list of clauses, codes or networks. Positions are LSP's (0-based
// line and UTF-16 character); the compiler's spans are 1-based, so each answer converts once.
// The language server (server.ts) and any other host (a playground) call these functions.

export interface LspDiagnostic {
  readonly range: Range;
  readonly severity: 1 | 2;
  readonly code: string;
  readonly source: 'tlr';
  readonly message: string;
  /** The fixes the hints offer: replacements of the range. */
  readonly data: { readonly fixes: readonly string[] };
}

/** Replacement texts a diagnostic's hints offer: every `did you mean` candidate, and `write X` when X is exact. */
export function fixesOf(d: Diagnostic): string[] {
  const out: string[] = [];
  for (const h of d.hints) {
    const mean = /^did you mean (.+)\?$/.exec(h);
    if (mean) for (const m of mean[1]!.matchAll(/`([^`]+)`|([^\s,`]+)/g)) out.push(m[1] ?? m[2]!);
    const write = /^write ([^`]+)$/.exec(h);
    if (write) out.push(write[1]!);
  }
  return [...new Set(out)].filter((x) => x !== 'or');
}

/** The checker's diagnostics, as `tlr check` reports them (hints under the message). */
export const diagnostics = (doc: Doc): LspDiagnostic[] =>
  doc.compiled.diagnostics.map((d) => ({
    range: toRange(d.span),
    severity: d.severity === 'error' ? 1 : 2,
    code: d.code,
    source: 'tlr',
    message: [d.message, ...d.hints.map((h) => `hint: ${h}`)].join('\n'),
    data: { fixes: fixesOf(d) },
  }));

/** Quick fixes for the diagnostics at a range: each offered replacement as an edit. */
export function codeActions(
  doc: Doc,
  range: Range,
): { title: string; kind: 'quickfix'; diagnostic: LspDiagnostic; edit: TextEdit }[] {
  const over = (a: Range, b: Range) =>
    !(a.end.line < b.start.line || (a.end.line === b.start.line && a.end.character < b.start.character)) &&
    !(b.end.line < a.start.line || (b.end.line === a.start.line && b.end.character < a.start.character));
  return diagnostics(doc)
    .filter((d) => over(d.range, range))
    .flatMap((d) =>
      d.data.fixes.map((fix) => ({
        title: `${d.code}: replace with ${fix}`,
        kind: 'quickfix' as const,
        diagnostic: d,
        edit: { range: d.range, newText: fix },
      })),
    );
}

/** `tlr fmt`'s output as one edit of the whole document (none when it is already canonical or has syntax errors). */
export function formatting(doc: Doc): TextEdit[] {
  const r = format(doc.text);
  if (!r.ok || r.text === doc.text) return [];
  const lines = doc.text.split('\n');
  return [
    {
      range: { start: { line: 0, character: 0 }, end: { line: lines.length - 1, character: lines.at(-1)!.length } },
      newText: r.text,
    },
  ];
}

export interface Completion {
  readonly label: string;
  /** LSP's CompletionItemKind: 14 keyword, 9 module, 5 field, 12 value, 19 folder. */
  readonly kind: 14 | 9 | 5 | 12 | 19;
  readonly detail?: string;
}

const CLAUSE_WORDS = [...new Set([...Object.values(CLAUSES).map((c) => c.words.split(' ')[0]!), 'then'])];

/** Folders beside the recipe (and under the part typed so far) that a `on` may name. */
function folders(doc: Doc, typed: string): Completion[] {
  const base = path.resolve(path.dirname(doc.file), typed.includes('/') ? typed.slice(0, typed.lastIndexOf('/')) : '.');
  try {
    return fs
      .readdirSync(base, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'runs' && e.name !== 'node_modules')
      .map((e) => {
        const rel = `${typed.includes('/') ? typed.slice(0, typed.lastIndexOf('/') + 1) : './'}${e.name}`;
        const images = fs.readdirSync(path.join(base, e.name)).length;
        return { label: rel, kind: 19 as const, detail: `${images} entries` };
      });
  } catch {
    return [];
  }
}

/**
 * A line typed inside an open list of alternatives as if the alternative stood alone after the list's words:
 * `from {resnet18, vg` completes as `from vg`, `head {dense(2), dense(8, ` as `head dense(8, `.
 */
function asOneAlternative(line: string): string {
  const open = line.lastIndexOf('{');
  if (open < 0 || line.includes('}', open)) return line;
  let start = open + 1,
    depth = 0;
  for (let i = open + 1; i < line.length; i++) {
    if (line[i] === '(') depth++;
    else if (line[i] === ')') depth = Math.max(0, depth - 1);
    else if (line[i] === ',' && depth === 0) start = i + 1;
  }
  return `${line.slice(0, open)}${line.slice(start).trimStart()}`;
}

/** Words that continue a clause rather than start one: `unfreeze from`, `class weights`, `keep best` … */
const CONTINUES: Readonly<Record<string, readonly string[]>> = { from: ['unfreeze'], weights: ['class'] };

/** The words of the clause the cursor is in: from its last clause word on (a line can hold several clauses). */
function clauseAt(words: readonly string[]): string[] {
  let at = 0;
  words.forEach((w, i) => {
    if (CLAUSE_WORDS.includes(w) && !(CONTINUES[w] ?? []).includes(words[i - 1] ?? '')) at = i;
  });
  return words.slice(at);
}

type Answer = (cw: readonly string[], ctx: { doc: Doc; p: Pos; line: string; typing: string }) => Completion[] | null;

const list = (xs: readonly string[], kind: Completion['kind'], detail?: string): Completion[] =>
  xs.map((label) => ({ label, kind, ...(detail ? { detail } : {}) }));

/** The network's blocks, then its layers with weights: what `freeze until` and `unfreeze from` take. */
function blocksOf(doc: Doc, p: Pos): Completion[] | null {
  const m = modelOf(viewAt(doc, p) ?? view(doc));
  return m
    ? [
        ...m.blocks.map((b) => ({ label: b.name, kind: 5 as const, detail: `block, ${fmtInt(b.params)} parameters` })),
        ...m.layers
          .filter((l) => l.params > 0)
          .map((l) => ({ label: l.name, kind: 5 as const, detail: `${l.kind} in ${l.block}` })),
      ]
    : null;
}

/** What may follow `then` on its line: the words of a stage's clauses. */
const THEN_WORDS = [
  'freeze',
  'unfreeze',
  'train',
  'batch',
  'optimizer',
  'lr',
  'early',
  'class',
  'balance',
  'keep',
  'update',
];

/** What each clause takes after its words, by the clause word it starts with (the clause table's first words). */
const TAKES: Readonly<Record<string, Answer>> = {
  from: (cw) => (cw.length === 1 ? FAMILIES.map((f) => ({ label: f.name, kind: 9, detail: f.summary })) : null),
  weights: (cw) => (cw.length === 1 ? list(['imagenet', 'none'], 12) : null),
  width: (_cw, { doc, p }) => {
    const m = modelOf(viewAt(doc, p) ?? view(doc));
    return m ? list((family(m.name)?.widths ?? []).map(String), 12) : null;
  },
  input: () => list(['224', '192', '160', '128', '96', '64', '32'], 12),
  features: (cw) => (cw.length === 1 ? list(['int8', 'float'], 12) : null),
  freeze: (cw, { doc, p }) =>
    cw.length === 1 ? list(['all', 'none', 'until', 'first'], 14) : cw.at(-1) === 'until' ? blocksOf(doc, p) : null,
  unfreeze: (cw, { doc, p }) =>
    cw.length === 1 ? list(['all', 'from', 'last'], 14) : cw.at(-1) === 'from' ? blocksOf(doc, p) : null,
  // After a layer, `multi-label` may end the head.
  head: (cw, { line }) =>
    /\(\s*\d+\s*,\s*$/.test(line)
      ? list(ACTIVATIONS, 12)
      : list(cw.length > 1 ? [...HEAD_KINDS, MULTI_LABEL] : HEAD_KINDS, 12),
  train: (cw, { doc, typing }) => (cw.at(-1) === 'on' ? folders(doc, typing) : null),
  optimizer: () => list(OPTIMIZERS, 12),
  lr: (cw) => (cw.length >= 2 ? list([...SCHEDULES, 'warmup'], 12) : null),
  early: (cw) =>
    cw.length === 1 ? list(['stop'], 14) : cw.at(-1) === 'on' ? list(METRIC_WORDS, 12) : list(['patience', 'on'], 14),
  class: (cw) => (cw.length === 1 ? list(['weights'], 14) : list(['auto', 'none'], 12)),
  balance: (cw) => (cw.length === 1 ? list(['classes', 'none'], 12) : null),
  keep: (cw) =>
    cw.length === 1 ? list(['batchnorm', 'best'], 14) : cw.at(-1) === 'batchnorm' ? list(['statistics'], 14) : null,
  update: (cw) =>
    cw.length === 1 ? list(['batchnorm'], 14) : cw.at(-1) === 'batchnorm' ? list(['statistics'], 14) : null,
  then: () => list(THEN_WORDS, 14),
  validate: (cw, { doc, typing }) => (cw.length === 1 ? list(['on'], 14) : folders(doc, typing)),
  test: (cw, { doc, typing }) => (cw.length === 1 ? list(['on'], 14) : folders(doc, typing)),
  augment: () => list(AUGMENTATIONS, 12),
  save: (cw) =>
    cw.at(-1) === 'by'
      ? list(METRIC_WORDS, 12)
      : cw.at(-1) === 'best'
        ? list(['by'], 14)
        : list(['best', 'last', 'to'], 14),
  export: (cw) => (cw.length === 1 ? list(['onnx'], 12) : cw.length === 2 ? list(['softmax'], 12) : null),
};

/**
 * What may be written at the cursor: clause words at the start of a line, then what the clause the cursor is in takes
 * (networks, widths, blocks and layers of the recipe's network, head layers and activations, optimizers, schedules,
 * metrics, augmentations, folders), wherever on the line that clause starts (`then unfreeze from …`).
 */
export function completion(doc: Doc, p: Pos): Completion[] {
  const line = asOneAlternative((doc.text.split('\n')[p.line] ?? '').slice(0, p.character));
  const words = line.trim().split(/\s+/).filter(Boolean);
  const typing = /\S$/.test(line) ? (words.pop() ?? '') : '';
  if (!words.length) return list(CLAUSE_WORDS, 14);
  const cw = clauseAt(words);
  const take = TAKES[cw[0]!];
  return take?.(cw, { doc, p, line, typing }) ?? [];
}

/** Inlay hints: after `from`, the network's input and feature sizes; after each stage's train line, what it trains. */
export function inlayHints(doc: Doc): { position: Pos; label: string }[] {
  const out: { position: Pos; label: string }[] = [];
  const lines = doc.text.split('\n');
  // A sweep's hints are its first variant's (a list's first alternative is what the line shows first).
  const v = view(doc);
  const lineEnd = (s: Span) => {
    const line = s.start.line - 1;
    return { line, character: lines[line]!.length };
  };
  const from = v.ast.statements.find((s) => s.kind === 'from');
  const m = modelOf(v);
  if (from && m) out.push({ position: lineEnd(from.span), label: ` input ${m.inputSize} · features ${m.featureSize}` });
  const plan = v.plan;
  if (plan) {
    const trains = v.ast.statements.filter((s) => s.kind === 'train');
    plan.stages.forEach((s, i) => {
      const t = trains[i];
      if (t)
        out.push({
          position: lineEnd(t.span),
          label:
            ` trains ${fmtInt(s.trainable.backboneParams + s.trainable.headParams)} · frozen ` +
            `${fmtInt(s.frozen.params)}` +
            `${s.featureCache.use ? ' · features cached' : s.featureCache.prefix ? ' · frozen part cached' : ''}`,
        });
    });
  }
  return out;
}

/** The stages as document symbols (LSP SymbolKind 2: module), each from its `train` to the next stage. */
export function symbols(doc: Doc): { name: string; kind: 2; range: Range; selectionRange: Range }[] {
  const v = view(doc);
  const st = v.ast.statements;
  const starts = st.filter((s) => s.kind === 'train');
  return starts.map((t, i) => {
    const next = starts[i + 1];
    const end = next ? st[st.indexOf(next) - 1]!.span.end : st.at(-1)!.span.end;
    return {
      name: `stage ${i + 1}${t.epochs ? `: ${t.epochs.text} epochs` : ''}`,
      kind: 2,
      range: toRange({ start: t.span.start, end }),
      selectionRange: toRange(t.keyword),
    };
  });
}

/** Folding: each stage's lines. */
export const foldingRanges = (doc: Doc): { startLine: number; endLine: number }[] =>
  symbols(doc)
    .map((s) => ({ startLine: s.range.start.line, endLine: s.range.end.line }))
    .filter((r) => r.endLine > r.startLine);

/** Every name the server can offer, for tests: each clause, network and code is reachable from one table. */
export const KNOWN = {
  clauses: CLAUSE_WORDS,
  networks: MODEL_NAMES,
  codes: Object.keys(CODES),
  images: IMAGE_EXTENSIONS,
};
