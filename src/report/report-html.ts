import * as path from 'node:path';
import sharp from 'sharp';
import type { Evaluation } from '../runtime/events.js';
import { readIdxImages, readMember } from '../data/formats/index.js';
import { writeFileAtomic } from '../files/atomic.js';
import { esc, heatMap, lineChart } from './svg.js';
import { explain } from '../review/explain.js';
import { EXPLAIN_CSS, explainSectionHtml } from './explain-html.js';
import { readContract, readContractLines, type Contracts } from '../contracts/read.js';
import type { Plan } from '../contracts/plan.js';

// RUN_DIR/report.html: one self-contained page (inline CSS, SVG and images; it opens from disk
// with no network): curves per stage, the learning rate, the confusion matrix as a heat map,
// per-class figures and the most confidently misclassified images.

type Source =
  | { kind: 'file'; path: string }
  | { kind: 'idx'; file: string; index: number }
  | { kind: 'member'; shard: string; name: string; offset: number; size: number };
async function thumbnail(src: Source): Promise<string | null> {
  try {
    let img: ReturnType<typeof sharp>;
    if (src.kind === 'file') img = sharp(src.path);
    else if (src.kind === 'member') img = sharp(readMember(src));
    else {
      const x = readIdxImages(src.file);
      const px = x.pixels.subarray(src.index * x.rows * x.cols, (src.index + 1) * x.rows * x.cols);
      img = sharp(Buffer.from(px), { raw: { width: x.cols, height: x.rows, channels: 1 } });
    }
    const png = await img.resize(96, 96, { fit: 'contain', kernel: 'nearest', background: '#ffffff' }).png().toBuffer();
    return `data:image/png;base64,${png.toString('base64')}`;
  } catch {
    return null;
  }
}

/** A number with `d` decimals, or n/a: a diverged run records null for what it could not compute. */
const fx = (v: number | null | undefined, d: number) =>
  typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : 'n/a';
const pct = (v: number | null) => (typeof v === 'number' && Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : 'n/a');

/** What identifies a misclassified image: its file's name, FILE[INDEX] inside an IDX file, SHARD[MEMBER] in a shard. */
const imageName = (i: Source): string =>
  i.kind === 'file'
    ? path.basename(i.path)
    : i.kind === 'idx'
      ? `${path.basename(i.file)}[${i.index}]`
      : `${path.basename(i.shard)}[${i.name}]`;

const CONFUSION_NOTE = '<p class="muted">Rows: true class; columns: predicted. Colour: share of the row.</p>';

const classRow = (c: Evaluation['classes'][number]): string =>
  `<tr><td>${esc(c.name)}</td>` +
  (c.threshold === undefined ? '' : `<td>${fx(c.threshold, 3)}</td><td>${fx(c.ap, 3)}</td>`) +
  `<td>${fx(c.precision, 3)}</td><td>${fx(c.recall, 3)}</td><td>${fx(c.f1, 3)}</td><td>${c.support}</td></tr>`;

/**
 * The confusion matrix and the per-class table; multi-label, the per-label table with each label's threshold and
 * average precision (a confusion matrix has no meaning with several labels per image).
 */
function classesHtml(ev: Evaluation): string {
  const multi = ev.task === 'multi-label';
  const table =
    `<table><tr><th>${multi ? 'label' : 'class'}</th>${multi ? '<th>threshold</th><th>AP</th>' : ''}` +
    '<th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>\n' +
    `${ev.classes.map(classRow).join('\n')}\n</table>`;
  if (multi)
    return (
      `<h2>Per label (${esc(ev.split)}, ${ev.images} images)</h2><p class="muted">A label is predicted when its ` +
      `probability reaches its threshold, chosen on the validation part (F1-optimal).</p>\n${table}`
    );
  const heat = heatMap(
    ev.classes.map((c) => c.name),
    ev.confusion,
  );
  const title = `<h2>Confusion matrix (${esc(ev.split)}, ${ev.images} images)</h2>`;
  return `${title}${CONFUSION_NOTE}\n${heat}\n<h2>Per class</h2>\n${table}`;
}

interface Wrong {
  readonly image: Source;
  readonly label: string;
  readonly predicted: string;
  readonly confidence: number;
  readonly src: string | null;
}

/** One misclassified image: its thumbnail, the true and predicted class, the confidence and its file. */
const wrongFigure = (x: Wrong): string => {
  const name = esc(imageName(x.image));
  const img = x.src ? `<img src="${x.src}" alt="${name}" title="${name}">` : '<div>(unreadable)</div>';
  const file = `<span class="muted file">${name}</span>`;
  const caption = `${esc(x.label)} → <b>${esc(x.predicted)}</b><br>${pct(x.confidence)}<br>${file}`;
  return `<figure>${img}<figcaption>${caption}</figcaption></figure>`;
};

/** The grid of the most confidently wrong predictions (or why there is none). */
const misclassifiedHtml = (recorded: unknown, wrong: readonly Wrong[]): string => {
  if (!recorded) return '<p class="muted">Not recorded: this run was made by an older tlr.</p>';
  if (!wrong.length) return '<p>None: every image was classified correctly.</p>';
  return `<div class="grid-imgs">${wrong.map(wrongFigure).join('')}</div>`;
};

/** Writes the run's self-contained report.html; returns its path. */
type Rows = ReturnType<typeof readContractLines<'metrics'>>;
type ReportJson = Contracts['report'];

/** The loss, accuracy and learning-rate curves, stage breaks dashed and the best epoch marked. */
function curves(rows: Rows, report: ReportJson): string[] {
  const breaks = rows.map((r, i) => (i > 0 && r.stage !== rows[i - 1]!.stage ? i : -1)).filter((i) => i > 0);
  const lrs = rows.map((r) => r.lr);
  const bestAt = rows.findIndex((r) => r.stage === report.best.stage && r.epoch === report.best.epoch);
  const mark = bestAt >= 0 ? { index: bestAt, label: `best (${report.best.metric})` } : undefined;
  const pair = (title: string, a: 'loss' | 'accuracy', b: 'val_loss' | 'val_accuracy') =>
    lineChart({
      title,
      series: [
        { name: a, values: rows.map((r) => r[a]), color: '#d9480f' },
        { name: b, values: rows.map((r) => r[b]), color: '#1c7ed6' },
      ],
      breaks,
      mark,
    });
  return [
    pair('loss', 'loss', 'val_loss'),
    pair('accuracy', 'accuracy', 'val_accuracy'),
    ...(rows.some((r) => r.val_map !== undefined)
      ? [
          lineChart({
            title: 'validation mAP',
            series: [{ name: 'val_map', values: rows.map((r) => r.val_map ?? Number.NaN), color: '#1c7ed6' }],
            breaks,
            mark,
          }),
        ]
      : []),
    // Learning rates live on a log scale: small ones (1e-5) would otherwise sit on the axis.
    lineChart({
      title: 'learning rate',
      series: [{ name: 'lr', values: lrs, color: '#5f3dc4' }],
      breaks,
      mark,
      log: lrs.some((v) => v > 0),
    }),
  ];
}

const REPORT_CSS = `body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;
  max-width:1180px;color:#212529;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dee2e6;padding-bottom:4px}
.muted{color:#6c757d}
.figures{display:flex;gap:14px;flex-wrap:wrap;margin:14px 0}
.fig{background:#f1f3f5;border-radius:8px;padding:10px 14px;min-width:130px}
.fig b{display:block;font-size:22px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:8px}
svg .best{stroke:#2b8a3e;stroke-width:1.5}
svg .best-label{fill:#2b8a3e}
.file{word-break:break-all}
svg .title{font-weight:600;font-size:13px}
svg .tick{font-size:11px;fill:#495057}
svg .grid{stroke:#e9ecef}
svg .break{stroke:#adb5bd;stroke-dasharray:4 3}
svg .cell{font-size:11px;fill:#212529}
table{border-collapse:collapse}
td,th{padding:3px 10px;border-bottom:1px solid #e9ecef;text-align:right}
th:first-child,td:first-child{text-align:left}
.grid-imgs{display:flex;flex-wrap:wrap;gap:10px}
.grid-imgs figure{margin:0;width:112px;font-size:12px;text-align:center}
.grid-imgs img{width:96px;height:96px;image-rendering:pixelated;border:1px solid #dee2e6}
`;

/** The page's heading: the network, its weights and each stage in one line. */
function summaryHtml(plan: Plan, report: ReportJson): string {
  const m = plan.model,
    w = m.weights;
  const width = m.width !== null ? ` width ${m.width}` : '';
  const weights =
    w.kind === 'imagenet' ? 'ImageNet' : w.kind === 'none' ? 'none (from scratch)' : w.kind === 'url' ? w.url : w.path;
  const about = `${plan.data.classes.length} classes · backend ${esc(report.backend ?? '?')}`;
  const stages = plan.stages
    .map(
      (s) =>
        `<li>stage ${s.index}: ${s.epochs} epochs, ${esc(s.frozen.by)}, ${s.optimizer} lr ` +
        `${s.lr.auto ? 'auto' : s.lr.blocks?.length ? `${s.lr.blocks[0]!.lr}..${s.lr.initial}` : s.lr.initial} ` +
        `${s.lr.schedule.kind}${s.featureCache.use ? ', head on cached features' : ''}</li>`,
    )
    .join('');
  return (
    `<h1>${esc(report.recipe)}</h1>\n<div class="muted">${esc(m.name)}${width} · input ${m.inputSize}px · weights ` +
    `${esc(weights)} · ${about}</div>\n<ul>${stages}</ul>`
  );
}

/** The headline figures: accuracy (multi-label: mAP, micro F1, subset accuracy), macro F1, the best epoch, time. */
function figuresHtml(report: ReportJson): string {
  const ev = report.evaluation,
    best = report.best;
  const runTime = report.seconds >= 60 ? `${(report.seconds / 60).toFixed(1)} min` : `${report.seconds.toFixed(1)} s`;
  const speed = report.training?.imagesPerSecond;
  const multi = ev.task === 'multi-label';
  const maps = multi
    ? `<div class="fig">${ev.split} mAP<b>${fx(ev.map, 3)}</b></div>` +
      `<div class="fig">micro F1<b>${fx(ev.microF1, 3)}</b></div>`
    : '';
  return `<div class="figures">
${maps}
<div class="fig">${ev.split} ${multi ? 'subset accuracy' : 'accuracy'}<b>${pct(ev.accuracy)}</b></div>
${ev.balancedAccuracy === undefined ? '' : `<div class="fig">balanced accuracy<b>${pct(ev.balancedAccuracy)}</b></div>`}
<div class="fig">macro F1<b>${fx(ev.macroF1, 3)}</b></div>
<div class="fig">best ${esc(best.metric)}<b>${fx(best.value, 4)}</b>
<span class="muted">stage ${best.stage}, epoch ${best.epoch}</span></div>
<div class="fig">run time<b>${runTime}</b></div>
${speed ? `<div class="fig">training<b>${speed.toFixed(0)} img/s</b></div>` : ''}
</div>`;
}

/** Writes the run's self-contained report.html; returns its path. */
export async function writeReportHtml(runDir: string): Promise<string> {
  const plan = readContract('plan', path.join(runDir, 'plan.json'));
  const report = readContract('report', path.join(runDir, 'report.json'));
  const rows = readContractLines('metrics', path.join(runDir, 'metrics.jsonl'));
  const ev = report.evaluation;
  const wrong = await Promise.all(
    (report.misclassified ?? []).map(async (m) => ({ ...m, src: await thumbnail(m.image) })),
  );
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(report.recipe)} · tlr report</title>
<style>
${REPORT_CSS}${EXPLAIN_CSS}
</style></head><body>
${summaryHtml(plan, report)}
${figuresHtml(report)}
<h2>Curves</h2><p class="muted">Dashed lines mark where a new stage starts.</p>
<div class="charts">${curves(rows, report).join('')}</div>
${classesHtml(ev)}
<h2>Most confidently misclassified</h2>
${misclassifiedHtml(report.misclassified, wrong)}
<h2>What was run</h2>
${explainSectionHtml(explain(plan), 'recipe.tlr', 3)}
<p class="muted">Written by tlr from ${esc(path.basename(runDir))}: plan.json, metrics.jsonl and report.json.</p>
</body></html>
`;
  const out = path.join(runDir, 'report.html');
  writeFileAtomic(out, html);
  return out;
}
