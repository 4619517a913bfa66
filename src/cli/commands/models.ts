import { isWeightedOp } from '../../zoo/ops/index.js';
import { describe, family, FAMILIES, CatalogError, type ModelInfo } from '../../zoo/catalog.js';
import { didYouMean } from '../../compiler/check/suggest.js';
import { fmtInt, UsageError, type Output } from '../io.js';
import { numberFlag } from '../number-flag.js';

const table = (rows: string[][]): string => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
};

function list(io: Output, json: boolean): number {
  const rows = FAMILIES.map((f) => {
    const m = describe(f.name);
    const widths = f.widths ?? [];
    const weights = (f.widths ?? [null]).map((w) => ({ w, s: describe(f.name, w).weights }));
    return { f, m, widths, weights };
  });
  if (json) {
    io.out(
      JSON.stringify(
        rows.map(({ f, m, weights }) => ({
          name: f.name,
          summary: f.summary,
          widths: f.widths,
          inputSize: f.inputSize,
          imagenetParams: m.imagenetParams,
          features: m.featureSize,
          blocks: m.blocks.map((b) => b.name),
          imagenetWeights: weights.map(({ w, s }) => ({ width: w, url: s?.url ?? null, format: s?.format ?? null })),
        })),
        null,
        2,
      ),
    );
    return 0;
  }
  const head = ['name', 'widths', 'input', 'parameters', 'features', 'ImageNet weights', 'about'];
  const body = rows.map(({ f, m, widths, weights }) => {
    const have = weights.filter((x) => x.s);
    const w = !have.length
      ? 'none readable'
      : have.length === weights.length
        ? have[0]!.s!.format
        : `${have[0]!.s!.format} (widths ${have.map((x) => x.w).join(', ')})`;
    return [
      f.name,
      widths.join(', ') || '-',
      String(f.inputSize),
      fmtInt(m.imagenetParams),
      String(m.featureSize),
      w,
      f.summary,
    ];
  });
  io.out(table([head, ...body]));
  io.out(
    '\nparameters: the ImageNet network as torchvision counts them (BatchNorm statistics excluded).\n`tlr ' +
      'models NAME` lists the blocks and layers that freeze and unfreeze accept.',
  );
  return 0;
}

function one(m: ModelInfo, io: Output, json: boolean): number {
  if (json) {
    io.out(JSON.stringify({ ...m, layers: m.layers }, null, 2));
    return 0;
  }
  const f = family(m.name)!;
  io.out(`${m.name}${m.width !== null ? ` width ${m.width}` : ''} — ${f.summary}`);
  io.out(
    `input ${m.inputSize}x${m.inputSize}x3, ${m.preprocessing.description}; features: ` +
      `${m.featureLayer} (${m.featureSize})`,
  );
  io.out(`backbone ${fmtInt(m.backboneParams)} parameters; ImageNet network ${fmtInt(m.imagenetParams)}`);
  io.out(
    `ImageNet weights: ${
      m.weights
        ? `${m.weights.url} (${m.weights.format})`
        : 'none in a format tlr reads ' + '(use weights none or your own file)'
    }\n`,
  );
  io.out('blocks (freeze until BLOCK freezes it and all before it; unfreeze from BLOCK trains it and all after):');
  io.out(
    table([
      ['block', 'also', 'layers', 'parameters'],
      ...m.blocks.map((b) => [
        b.name,
        b.aliases.join(', ') || '-',
        `${m.layers[b.first]!.name} .. ${m.layers[b.last]!.name}`,
        fmtInt(b.params),
      ]),
    ]),
  );
  io.out('\nlayers (# numbers the layers with weights, as `freeze first N layers` counts them):');
  let n = 0;
  io.out(
    table([
      ['#', 'layer', 'block', 'kind', 'output', 'parameters'],
      ...m.layers.map((l) => [
        isWeightedOp(l.kind) ? String(++n) : '',
        l.name,
        l.block,
        l.kind,
        l.shape.join('x'),
        l.params ? fmtInt(l.params) : '',
      ]),
    ]),
  );
  return 0;
}

/** `tlr models [NAME]`: the zoo, or one network's blocks and layers. */
export function modelsCommand(
  args: readonly string[],
  flags: { width?: string; input?: string; json: boolean },
  io: Output,
): number {
  if (args.length > 1) throw new UsageError('tlr models takes at most one model name');
  if (!args.length) return list(io, flags.json);
  const name = args[0]!;
  if (!family(name))
    throw new UsageError(
      [
        `there is no model named ${name}`,
        ...didYouMean(
          name,
          FAMILIES.map((f) => f.name),
        ),
        'run `tlr models` to list the zoo',
      ].join('\n  '),
    );
  const num = (v: string | undefined, what: string) =>
    v === undefined ? null : numberFlag(what, v, 0, (n) => n > 0, 'a positive number');
  try {
    return one(describe(name, num(flags.width, 'width'), num(flags.input, 'input')), io, flags.json);
  } catch (e) {
    if (e instanceof CatalogError) throw new UsageError(e.message);
    throw e;
  }
}
