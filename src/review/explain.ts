import { displayPath } from '../paths.js';
import { taskOf, type Plan, type PlanStage } from '../contracts/plan.js';
import { fmtMacs, planCompute, sum } from './compute.js';
import {
  augmentText,
  batchnormText,
  duration,
  fmtInt,
  headText,
  keepsText,
  LAYOUTS,
  plural,
  sourceText,
  stageRateText,
  weightsText,
} from './phrases.js';
import { planDir } from './aspects.js';
import { markdownCode, markdownText } from '../escape.js';

// `tlr explain`: a recipe as a document a reviewer reads. Built once as plain data (sections of
// paragraphs, tables and block diagrams) and rendered twice: Markdown with Mermaid diagrams for
// GitHub (here), and a self-contained HTML page (src/report/explain-html.ts), which report.html
// also includes.

/** A backbone block as one stage sees it. */
export interface BlockCell {
  readonly name: string;
  readonly state: 'frozen' | 'trained' | 'split' | 'head';
  readonly params: number;
  /** For a block cut in two: the last frozen layer. */
  readonly through?: string;
}

export type Part =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'table'; readonly head: readonly string[]; readonly rows: readonly (readonly string[])[] }
  | { readonly kind: 'blocks'; readonly input: string; readonly cells: readonly BlockCell[] };

export interface Section {
  readonly title: string;
  readonly parts: readonly Part[];
}

export interface Explained {
  readonly title: string;
  readonly summary: string;
  readonly sections: readonly Section[];
}

/** Per engine, the seconds a run would take here (null: not calibrated); the CLI measures it. */
export type Estimates = readonly { readonly engine: string; readonly seconds: number | null }[];

/** `; split 70/15/15, stratified by class, seed S`: how a data set's parts were made. */
const splitText = (d: Plan['data'], seed: number): string =>
  `; split ${d.split.train}/${d.split.validation}/${d.split.test}, stratified by ` +
  `${d.images ? 'label (iterative stratification)' : 'class'}, seed ${seed}`;
/** Each block of the backbone in one stage: frozen, trained, or cut by the freeze point; then the head. */
export function stageCells(p: Plan, s: PlanStage): BlockCell[] {
  let i = 0;
  const cells: BlockCell[] = p.model.blocks.map((b) => {
    const first = i,
      last = i + b.layers - 1;
    i += b.layers;
    const state = last < s.frozen.layers ? 'frozen' : first >= s.frozen.layers ? 'trained' : 'split';
    return { name: b.name, state, params: b.params, ...(state === 'split' ? { through: s.frozen.through! } : {}) };
  });
  return [...cells, { name: 'head', state: 'head', params: p.head.params }];
}

function stageSentences(p: Plan, s: PlanStage): string {
  const trains = s.trainable.backboneParams
    ? `the backbone from ${s.trainable.from} up (${fmtInt(s.trainable.backboneParams)} parameters) and the head ` +
      `(${fmtInt(s.trainable.headParams)})`
    : `the head only (${fmtInt(s.trainable.headParams)} parameters)`;
  const frozen = s.frozen.layers
    ? `${fmtInt(s.frozen.params)} parameters of the backbone stay frozen (${plural(s.frozen.layers, 'layer')}` +
      `${s.frozen.through ? ` through ${s.frozen.through}` : ''}).`
    : 'Nothing is frozen.';
  const from =
    s.startFrom === 'weights'
      ? p.model.weights.kind === 'none'
        ? 'random weights'
        : 'the loaded weights'
      : `the best weights of stage ${s.index - 1}`;
  // `features int8`: the pass that computes what is cached runs the int8 network (calibrated as the plan says).
  const int8 = p.features
    ? ` in int8 (activation ranges calibrated on ${p.features.calibration.images} training images)`
    : '';
  const cache = s.featureCache.use
    ? `The backbone runs once per image${int8}: its features are cached and every epoch trains the head on them.`
    : s.featureCache.prefix
      ? `The frozen part (through ${s.featureCache.prefix.through}) runs once per image${int8} and its output is ` +
        'cached; every epoch trains on it.'
      : `Every batch runs the whole network (${s.featureCache.reason}).`;
  const stop = s.earlyStop
    ? ` It stops early when ${s.earlyStop.metric} has not improved for ${plural(s.earlyStop.patience, 'epoch')}.`
    : '';
  // What BatchNorm does in the layers that train (keep or update batchnorm statistics), as `tlr plan` says it.
  const bn = s.trainable.backboneParams > 0 ? ` BatchNorm: ${batchnormText(s)}.` : '';
  // What a reviewer of imbalanced data looks for: how the classes are weighed and drawn.
  const balance =
    (s.classWeights === 'auto'
      ? taskOf(p) === 'multi-label'
        ? " The loss weighs each label's positives by (images without it) ÷ (images with it)."
        : ' The loss weighs each class by its inverse frequency.'
      : '') + (s.sampler === 'balanced' ? ' Each epoch draws every class equally often.' : '');
  return (
    `Stage ${s.index} trains ${trains} for ${plural(s.epochs, 'epoch')}, starting from ${from}: ${s.optimizer}, ` +
    `batch ${s.batch}, learning rate ${stageRateText(s)}. ${frozen} ${cache}${stop}${bn}${balance}`
  );
}

function dataSection(p: Plan): Section {
  const d = p.data,
    dir = planDir(p);
  const counts = [d.counts.train, d.counts.validation, d.counts.test];
  // Multi-label counts are images with each label: their sum is not the images, which the plan counts apart.
  const images = d.images ? [d.images.train, d.images.validation, d.images.test] : null;
  const total = images
    ? ['images', ...images.map((n) => (n === null ? '-' : fmtInt(n)))]
    : ['total', ...counts.map((x) => (x ? fmtInt(sum(x)) : '-'))];
  return {
    title: 'Data',
    parts: [
      {
        kind: 'text',
        text:
          `${images ? plural(d.classes.length, 'label') : plural(d.classes.length, 'class', 'classes')} from ` +
          `${displayPath(dir, d.root)} ` +
          `(${LAYOUTS[d.format]}). ${sourceText(dir, d.validation, 'Validation', !!d.images)}; ` +
          `${sourceText(dir, d.test, 'test', !!d.images)}` +
          `${d.validation.kind === 'split' || d.test?.kind === 'split' ? splitText(d, p.seed) : ''}. ` +
          `Augmentation: ${augmentText(d.augment)}.`,
      },
      {
        kind: 'table',
        head: [images ? 'label' : 'class', 'train', 'validation', 'test'],
        rows: [...d.classes.map((c, i) => [c, ...counts.map((x) => (x ? fmtInt(x[i]!) : '-'))]), total],
      },
    ],
  };
}

function computeSection(p: Plan, estimates: Estimates): Section {
  const c = planCompute(p);
  const time = estimates
    .map((e) => (e.seconds === null ? `${e.engine}: not calibrated here` : `${e.engine}: about ${duration(e.seconds)}`))
    .join('; ');
  return {
    title: 'Compute',
    parts: [
      {
        kind: 'table',
        head: ['stage', 'once (caches)', 'an epoch', 'epochs', 'stage total'],
        rows: c.stages.map((s) => [
          String(s.index),
          s.once ? `${fmtMacs(s.once)}MAC` : '-',
          `${fmtMacs(s.perEpoch)}MAC`,
          String(s.epochs),
          `${fmtMacs(s.total)}MAC`,
        ]),
      },
      {
        kind: 'text',
        text:
          `The whole run: ${fmtMacs(c.total)}MAC (multiply-accumulates, counted as torchvision counts its ` +
          `GFLOPS; a backward pass as twice its forward), every epoch run. One prediction: ` +
          `${fmtMacs(c.forward)}MAC.${time ? ` Time here: ${time}.` : ''}`,
      },
    ],
  };
}

/** A recipe's plan as a document: what it trains, on what, how, at what cost, and where results go. */
export function explain(p: Plan, estimates: Estimates = []): Explained {
  const m = p.model,
    dir = planDir(p);
  const from = m.weights.kind === 'none' ? 'from random weights' : `pretrained (${weightsText(p)})`;
  const multi = taskOf(p) === 'multi-label';
  const n = p.data.classes.length;
  const kinds = multi ? `${plural(n, 'label')}, one sigmoid each` : plural(n, 'class', 'classes');
  const summary =
    `${m.name}${m.width !== null ? ` width ${m.width}` : ''} at ${m.inputSize}×${m.inputSize}, ${from}, with a new ` +
    `${multi ? 'multi-label ' : ''}head (${headText(p)}) for ${multi ? 'any of ' : ''}${kinds}` +
    `${p.data.classes.length <= 12 ? `: ${p.data.classes.join(', ')}` : ''}; ${plural(p.stages.length, 'stage')}.`;
  const stages: Section[] = p.stages.map((s) => ({
    title: `Stage ${s.index}`,
    parts: [
      { kind: 'text', text: stageSentences(p, s) },
      { kind: 'blocks', input: `input ${m.inputSize}×${m.inputSize}`, cells: stageCells(p, s) },
    ],
  }));
  const results: Section = {
    title: 'Results',
    parts: [
      {
        kind: 'text',
        text:
          `The run keeps ${keepsText(p)}, in ${displayPath(dir, p.output.runsDir)}/<timestamp>/ ` +
          `(plan, metrics, model, report.json, report.html)` +
          `${p.save.to ? `, and copies it to ${displayPath(dir, p.save.to)}` : ''}` +
          `${p.save.exports?.length ? `; it also writes ${p.save.exports.map((x) => x.format).join(', ')}` : ''}. ` +
          `${
            p.data.test
              ? 'The best model is evaluated once on the test ' + 'part.'
              : 'There is no test part: the evaluation is on validation.'
          }`,
      },
    ],
  };
  return {
    title: p.recipe.name,
    summary,
    sections: [dataSection(p), ...stages, computeSection(p, estimates), results],
  };
}

// Markdown: GitHub renders the tables, and the ```mermaid blocks as diagrams.

/** A Mermaid node id: letters, digits and underscores. */
const mid = (s: string, i: number) => `n${i}_${s.replace(/[^A-Za-z0-9_]/g, '_')}`;
/** A Mermaid label in quotes: quotes and angle brackets as entities. */
const mlabel = (s: string) => s.replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');

const STATE_WORDS: Record<BlockCell['state'], string> = {
  frozen: 'frozen',
  trained: 'trained',
  split: 'partly trained',
  head: 'new head',
};

/** Blocks a row of the diagram holds: a network of 16 blocks in one row is wider than GitHub's page. */
const ROW = 3;

/**
 * A stage's blocks as a Mermaid flowchart, coloured by state: left to right in rows of ROW (each row a subgraph,
 * the rows linked top to bottom), so a deep network wraps instead of running off the page.
 */
export function mermaid(part: Extract<Part, { kind: 'blocks' }>): string {
  const ids = ['in', ...part.cells.map((c, i) => mid(c.name, i))];
  const nodes = [
    `in["${mlabel(part.input)}"]`,
    ...part.cells.map((c, i) => {
      const sub = c.state === 'split' ? `<br/>frozen through ${c.through}` : '';
      return `${ids[i + 1]}["${mlabel(c.name)}<br/>${fmtInt(c.params)} params${mlabel(sub)}"]:::${c.state}`;
    }),
  ];
  const lines: string[] = [];
  if (nodes.length <= ROW) lines.push('flowchart LR', ...nodes.map((n) => `  ${n}`), `  ${ids.join(' --> ')}`);
  else {
    lines.push('flowchart TB');
    for (let r = 0; r * ROW < nodes.length; r++) {
      const row = nodes.slice(r * ROW, (r + 1) * ROW),
        rowIds = ids.slice(r * ROW, (r + 1) * ROW);
      lines.push(`  subgraph row${r}[" "]`, '    direction LR', ...row.map((n) => `    ${n}`));
      if (rowIds.length > 1) lines.push(`    ${rowIds.join(' --> ')}`);
      lines.push('  end');
    }
    lines.push(`  ${Array.from({ length: Math.ceil(nodes.length / ROW) }, (_, r) => `row${r}`).join(' --> ')}`);
  }
  lines.push(
    '  classDef frozen fill:#dbeafe,stroke:#1e40af,color:#1e3a8a',
    '  classDef trained fill:#fef3c7,stroke:#b45309,color:#78350f',
    '  classDef split fill:#fde68a,stroke:#1e40af,stroke-dasharray:4 2,color:#78350f',
    '  classDef head fill:#dcfce7,stroke:#15803d,color:#14532d',
  );
  return lines.join('\n');
}

function partMarkdown(part: Part): string {
  switch (part.kind) {
    case 'text':
      return markdownText(part.text);
    case 'table':
      return [
        `| ${part.head.map(markdownText).join(' | ')} |`,
        `|${part.head.map(() => '---').join('|')}|`,
        ...part.rows.map((r) => `| ${r.map(markdownText).join(' | ')} |`),
      ].join('\n');
    case 'blocks': {
      const legend = (['frozen', 'trained', 'split', 'head'] as const)
        .filter((s) => part.cells.some((c) => c.state === s))
        .map(
          (s) =>
            `${STATE_WORDS[s]}: ${part.cells
              .filter((c) => c.state === s)
              .map((c) => c.name)
              .join(', ')}`,
        )
        .join(' · ');
      return `\`\`\`mermaid\n${mermaid(part)}\n\`\`\`\n\n${legend}`;
    }
  }
}

/** The document as GitHub-flavoured Markdown. */
export function explainMarkdown(e: Explained, source: string): string {
  const out = [`# ${markdownText(e.title)}`, '', `${markdownCode(source)}: ${markdownText(e.summary)}`, ''];
  for (const s of e.sections) {
    out.push(`## ${markdownText(s.title)}`, '');
    for (const p of s.parts) out.push(partMarkdown(p), '');
  }
  return out.join('\n');
}
