import { models } from '../../engines/index.js';
import type { Prediction } from '../../engines/types.js';
import { evaluationText } from '../../text/evaluation.js';
import { UsageError, type Output } from '../io.js';
import { expandImages } from '../image-args.js';
import { stringify } from 'csv-stringify/sync';
import { printable } from '../../printable.js';
import { CSV_SAFE } from '../../escape.js';

// tlr predict and tlr eval: print what the runtime's saved-model API returns.

/** `tlr predict`: the top labels of images with a saved model. */
export async function predictCommand(
  args: readonly string[],
  flags: { top?: string; json: boolean; csv: boolean; backend?: string; int8?: boolean },
  io: Output,
): Promise<number> {
  const [dir, ...rest] = args;
  if (!dir || !rest.length)
    throw new UsageError('tlr predict needs a model folder and at least one image, folder or pattern');
  if (flags.json && flags.csv) throw new UsageError('give --json or --csv, not both');
  const k = flags.top === undefined ? 3 : Number(flags.top);
  if (!Number.isInteger(k) || k < 1) throw new UsageError(`--top takes a whole number of at least 1, not ${flags.top}`);
  const { images, problems } = expandImages(rest);
  for (const p of problems) io.err(`tlr: ${p}`);
  const service = await models();
  const m = await service.open(dir, flags.backend, { int8: !!flags.int8 });
  let failed = problems.length;
  try {
    const results = await service.predict(m, images, k, (_image, message) => {
      io.err(`tlr: ${message}`);
      failed++;
    });
    if (flags.json) io.out(JSON.stringify(results, null, 2));
    else if (flags.csv)
      io.out(
        stringify(
          // Names from files and model folders are escaped here as everywhere tlr prints them. Multi-label: the rows
          // are the labels at their thresholds.
          results.flatMap((r) =>
            (r.labels ?? r.top).map((t, i) => [
              printable(r.image),
              i + 1,
              printable(t.label),
              +t.probability.toFixed(6),
            ]),
          ),
          { header: true, columns: ['image', 'rank', 'label', 'probability'], ...CSV_SAFE },
        ).trimEnd(),
      );
    else for (const r of results) io.out(printable(`${r.image}: ${predictionLine(r)}`));
  } finally {
    m.dispose();
  }
  return failed ? 1 : 0;
}

const shown = (t: { label: string; probability: number }) => `${t.label} ${(t.probability * 100).toFixed(1)}%`;

/** One image's line: its top labels, or (multi-label) the labels at their thresholds. */
function predictionLine(r: Prediction): string {
  if (!r.labels) return r.top.map(shown).join(', ');
  if (!r.labels.length) return `no label reaches its threshold (most probable: ${shown(r.top[0]!)})`;
  return r.labels.map(shown).join(', ');
}

/** `tlr eval`: a saved model evaluated on a data set. */
export async function evalCommand(
  args: readonly string[],
  flags: { json: boolean; backend?: string; int8?: boolean },
  io: Output,
): Promise<number> {
  const [dir, data] = args;
  if (!dir || !data || args.length > 2) throw new UsageError('tlr eval needs a model folder and a data set');
  const service = await models();
  const m = await service.open(dir, flags.backend, { int8: !!flags.int8 });
  try {
    const r = await service.evaluate(m, data, {
      onUnreadable: (_file, reason) => io.err(`warning: skipped an unreadable image: ${reason}`),
    });
    const part = r.part === 'train' ? 'all of it (it has no test or validation part)' : `its ${r.part} part`;
    if (r.overlap)
      io.err(
        `warning: ${r.overlap} of the ${r.evaluation.images} images are images this model was trained on ` +
          `(compared by content): the accuracy is inflated; evaluate on images it has not seen, such as ` +
          `its run's test split`,
      );
    io.out(
      flags.json
        ? JSON.stringify(r, null, 2)
        : `${data}: ${part}, on ${r.engine}\n${evaluationText(r.evaluation, 'evaluated')}`,
    );
  } finally {
    m.dispose();
  }
  return 0;
}
