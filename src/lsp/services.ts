import * as fs from 'node:fs';
import * as path from 'node:path';
import { compile, expand, format, parseTokens, toAst, type Ast, type CheckOptions } from '../compiler/index.js';
import { variantAt, type Expanded } from '../compiler/variants.js';
import { CLAUSES } from '../compiler/clauses.js';
import { CODES } from '../compiler/codes.js';
import type { Diagnostic } from '../compiler/diagnostics.js';
import type { Span } from '../compiler/source.js';
import { AUGMENTATIONS, METRICS, OPTIMIZERS, SCHEDULES } from '../compiler/check/training.js';
import { describe, family, FAMILIES, MODEL_NAMES, type ModelInfo } from '../zoo/catalog.js';
import { ACTIVATIONS, HEAD_KINDS } from '../zoo/head-layers.js';
import { IMAGE_EXTENSIONS } from '../data/layout.js';
import { fmtInt, plural } from '../review/phrases.js';
import { sum } from '../review/compute.js';
import type { Plan } from '../contracts/plan.js';

// What an editor asks about a recipe, answered from the compiler, the clause table and the zoo:
// no second parser, no second list of clauses, codes or networks. Positions are LSP's (0-based
// line and UTF-16 character); the compiler's spans are 1-based, so each answer converts once.
// The language server (server.ts) and any other host (a playground) call these functions.

export interface Pos {
  readonly line: number;
  readonly character: number;
}
export interface Range {
  readonly start: Pos;
  readonly end: Pos;
}
export interface TextEdit {
  readonly range: Range;
  readonly newText: string;
}

export const toRange = (s: Span): Range => ({
  start: { line: s.start.line - 1, character: s.start.column - 1 },
  end: { line: s.end.line - 1, character: s.end.column - 1 },
});

const inside = (s: Span, p: Pos) => {
  const r = toRange(s);
  const after = (a: Pos, b: Pos) => a.line > b.line || (a.line === b.line && a.character >= b.character);
  return after(p, r.start) && after(r.end, p);
};

/** A compiled document, kept per version: every request on one version reuses it. */
export interface Doc {
  readonly file: string;
  readonly text: string;
  readonly compiled: ReturnType<typeof compile>;
  /** Its lists of alternatives (none for a plain recipe). */
  readonly expanded: Expanded;
}

/**
 * Compiles `text` as the file at `file` (data paths resolve from its folder; a host without files passes its own
 * probe). A sweep is compiled as `tlr check` does, so its diagnostics are its variants' (named where only some have
 * them); hovers and completions read the variant under the cursor (see `viewAt`).
 */
export function openDoc(file: string, text: string, options: Partial<Omit<CheckOptions, 'file'>> = {}): Doc {
  return { file, text, compiled: compile(text, { ...options, file, sweeps: true }), expanded: expand(text) };
}

/** One variant's tree and plan, its spans mapped into the document's (a plain recipe is its own one variant). */
interface View {
  readonly ast: Ast;
  readonly plan: Plan | null;
  span(s: Span): Span;
}

/** The view of the variant of alternative pick[g] of each list g (the first where pick has none). */
function view(doc: Doc, pick: readonly number[] = []): View {
  if (!doc.expanded.groups.length) return { ast: doc.compiled.ast, plan: doc.compiled.plan, span: (s) => s };
  const v = variantAt(doc.expanded, pick);
  return {
    ast: toAst(parseTokens(doc.expanded.lexed, v.tokens)),
    plan: doc.compiled.sweep?.variants.find((x) => x.variant.id === v.id)?.plan ?? null,
    span: (s) => s,
  };
}

const offsetOf = (text: string, p: Pos): number =>
  text
    .split('\n')
    .slice(0, p.line)
    .reduce((n, l) => n + l.length + 1, p.character);

/**
 * The view at the cursor: inside a list, the variant with the alternative under it (and lists varied with it at the
 * same place), so a hover on `vgg16` in `from {resnet18, vgg16}` describes VGG-16 and `freeze until` its blocks;
 * elsewhere the first variant. Null on a list's braces and commas.
 */
function viewAt(doc: Doc, p: Pos): View | null {
  const o = offsetOf(doc.text, p);
  const pick: number[] = [];
  for (const [g, group] of doc.expanded.groups.entries()) {
    if (o < group.start || o >= group.end) continue;
    const a = group.alternatives.findIndex((x) => x.start <= o && o <= x.end);
    if (a < 0) return null;
    for (const i of doc.expanded.together.find((t) => t.includes(g)) ?? [g]) pick[i] = a;
  }
  return view(doc, pick);
}

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

/** The network the recipe names (with its width and input size), when the zoo has it. */
function modelOf(v: View): ModelInfo | null {
  const st = v.ast.statements;
  const from = st.find((s) => s.kind === 'from');
  if (!from || !family(from.model.text)) return null;
  const width = st.find((s) => s.kind === 'width');
  const input = st.find((s) => s.kind === 'input');
  try {
    return describe(from.model.text, width?.value.value ?? null, input?.value.value ?? null);
  } catch {
    return describe(from.model.text);
  }
}

/**
 * Where a network's ImageNet weights are on this machine (cached, in $TLR_WEIGHTS_DIR, or to be
 * downloaded): the host that can look (the CLI) hands this in; the services never read the cache.
 */
export type WeightsWhere = (weights: NonNullable<ModelInfo['weights']>) => string;
let weightsWhere: WeightsWhere | null = null;
export const setWeightsWhere = (fn: WeightsWhere | null): void => {
  weightsWhere = fn;
};

function networkHover(name: string): string {
  const f = family(name)!;
  const m = describe(name);
  return [
    `**${name}**: ${f.summary}`,
    '',
    `input ${m.inputSize}×${m.inputSize}${f.widths ? ` · widths ${f.widths.join(', ')}` : ''} · ` +
      `${plural(m.layers.length, 'layer')}, ${fmtInt(m.backboneParams)} parameters · features ${m.featureSize} from ${m.featureLayer}`,
    '',
    `blocks: ${m.blocks.map((b) => `${b.name} (${fmtInt(b.params)})`).join(', ')}`,
    '',
    m.weights
      ? `ImageNet weights: ${m.weights.url}${weightsWhere ? ` (${weightsWhere(m.weights)})` : ''}`
      : 'no published ImageNet weights tlr can read',
  ].join('\n');
}

function layerHover(m: ModelInfo, name: string): string | null {
  const b = m.blocks.find((x) => x.name === name || x.aliases.includes(name));
  if (b) {
    const first = m.layers[b.first]!,
      last = m.layers[b.last]!;
    return (
      `**${b.name}** of ${m.name}: layers ${b.first}–${b.last} (${first.name} … ${last.name}), ` +
      `${fmtInt(b.params)} parameters; output ${last.shape.join('×')}`
    );
  }
  const l = m.layers.find((x) => x.name === name);
  return l
    ? `**${l.name}** (${l.kind}) of ${m.name}: layer ${l.index} in ${l.block}, ${fmtInt(l.params)} parameters; ` +
        `output ${l.shape.join('×')}`
    : null;
}

function dataHover(plan: Plan | null): string | null {
  if (!plan) return null;
  const rows = plan.data.classes.map(
    (c, i) =>
      `| ${c} | ${plan.data.counts.train[i]} | ${plan.data.counts.validation[i]} | ${plan.data.counts.test?.[i] ?? '-'} |`,
  );
  return [
    `**${plan.data.root}**: ${plural(plan.data.classes.length, 'class', 'classes')}, ${sum(plan.data.counts.train)} ` +
      `training, ${sum(plan.data.counts.validation)} validation, ${sum(plan.data.counts.test)} test images`,
    '',
    '| class | train | validation | test |',
    '|---|---|---|---|',
    ...rows.slice(0, 30),
  ].join('\n');
}

/** Markdown for what is under the cursor: a clause word, a network, a block or layer, a data folder. */
export function hover(doc: Doc, p: Pos): { contents: string; range: Range } | null {
  const v = viewAt(doc, p);
  const s = v?.ast.statements.find((x) => inside(v.span(x.span), p));
  if (!v || !s) return null;
  const on = (span: Span) => inside(v.span(span), p);
  if (on(s.keyword)) {
    const c = (CLAUSES as Record<string, { words: string; usage: string }>)[s.kind];
    return c ? { contents: `\`${c.usage}\``, range: toRange(v.span(s.keyword)) } : null;
  }
  if (s.kind === 'from' && on(s.model.span) && family(s.model.text))
    return { contents: networkHover(s.model.text), range: toRange(v.span(s.model.span)) };
  const layer =
    s.kind === 'freeze' && s.target.kind === 'until'
      ? s.target.layer
      : s.kind === 'unfreeze' && s.target.kind === 'from'
        ? s.target.layer
        : null;
  const m = modelOf(v);
  if (layer && m && on(layer.span)) {
    const text = layerHover(m, layer.text);
    return text ? { contents: text, range: toRange(v.span(layer.span)) } : null;
  }
  const data = s.kind === 'train' ? s.data : s.kind === 'validate' || s.kind === 'test' ? s.data : null;
  if (data && on(data.span)) {
    const text = dataHover(v.plan);
    return text ? { contents: text, range: toRange(v.span(data.span)) } : null;
  }
  return null;
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

/**
 * What may be written at the cursor, from the words before it on its line: clause words at the
 * start of a line, then what each clause takes (networks, widths, blocks and layers of the recipe's
 * network, head layers and activations, optimizers, schedules, metrics, augmentations, folders).
 */
export function completion(doc: Doc, p: Pos): Completion[] {
  const line = asOneAlternative((doc.text.split('\n')[p.line] ?? '').slice(0, p.character));
  const words = line.trim().split(/\s+/).filter(Boolean);
  const typing = /\S$/.test(line) ? (words.pop() ?? '') : '';
  const prev = words.at(-1) ?? '';
  const list = (xs: readonly string[], kind: Completion['kind'], detail?: string) =>
    xs.map((label) => ({ label, kind, ...(detail ? { detail } : {}) }));
  if (!words.length) return list(CLAUSE_WORDS, 14);
  if (prev === 'from' && words.length === 1)
    return FAMILIES.map((f) => ({ label: f.name, kind: 9, detail: f.summary }));
  const m = modelOf(viewAt(doc, p) ?? view(doc));
  if ((prev === 'until' || (prev === 'from' && words[0] === 'unfreeze')) && m)
    return [
      ...m.blocks.map((b) => ({ label: b.name, kind: 5 as const, detail: `block, ${fmtInt(b.params)} parameters` })),
      ...m.layers
        .filter((l) => l.params > 0)
        .map((l) => ({ label: l.name, kind: 5 as const, detail: `${l.kind} in ${l.block}` })),
    ];
  if (words[0] === 'width' && m) return list((family(m.name)?.widths ?? []).map(String), 12);
  if (words[0] === 'input') return list(['224', '192', '160', '128', '96', '64', '32'], 12);
  if (words[0] === 'freeze' && words.length === 1) return list(['all', 'none', 'until', 'first'], 14);
  if (words[0] === 'unfreeze' && words.length === 1) return list(['all', 'from', 'last'], 14);
  if (words[0] === 'head') return /\(\s*\d+\s*,\s*$/.test(line) ? list(ACTIVATIONS, 12) : list(HEAD_KINDS, 12);
  if (words[0] === 'optimizer') return list(OPTIMIZERS, 12);
  if (words[0] === 'lr' && words.length >= 2) return list([...SCHEDULES, 'warmup'], 12);
  if (words[0] === 'early' && prev === 'on') return list(METRICS, 12);
  if (words[0] === 'save' && prev === 'by') return list(METRICS, 12);
  if (words[0] === 'augment') return list(AUGMENTATIONS, 12);
  if (prev === 'on' || words[0] === 'validate' || words[0] === 'test') return folders(doc, typing);
  if (words[0] === 'weights') return list(['imagenet', 'none'], 12);
  return [];
}

/** Inlay hints: after `from`, the network's input and feature sizes; after each stage's train line, what it trains. */
export function inlayHints(doc: Doc): { position: Pos; label: string }[] {
  const out: { position: Pos; label: string }[] = [];
  const lines = doc.text.split('\n');
  // A sweep's hints are its first variant's (a list's first alternative is what the line shows first).
  const v = view(doc);
  const lineEnd = (s: Span) => {
    const line = v.span(s).start.line - 1;
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
            ` trains ${fmtInt(s.trainable.backboneParams + s.trainable.headParams)} · frozen ${fmtInt(s.frozen.params)}` +
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
      range: toRange(v.span({ start: t.span.start, end })),
      selectionRange: toRange(v.span(t.keyword)),
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
