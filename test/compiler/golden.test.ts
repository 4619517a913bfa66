import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, expand, format } from '../../src/compiler/index.js';
import { sweepShape } from '../../src/cli/sweep-text.js';
import { trainableParams } from '../../src/runtime/sweep-folder.js';
import { renderDiagnostics } from '../../src/compiler/render.js';
import { golden } from '../helpers/golden.js';

// One runner for every fixture: test/fixtures/{valid,invalid}/NAME.tlr with, beside it,
// NAME.plan.json (the plan), NAME.diagnostics (rendered diagnostics) and NAME.tlr.fmt (fmt output).
// `npm run test:accept` rewrites them; review the diff before committing.

const ROOT = path.resolve(__dirname, '../fixtures');
const normalize = (s: string) => s.split(ROOT).join('<fixtures>');

/** One test per NAME.tlr in `dir`, given its path, its path without `.tlr` and its text. */
function eachFixture(dir: string, test: (name: string, file: string, base: string, text: string) => void): void {
  for (const name of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.tlr'))
    .sort()) {
    const file = path.join(dir, name);
    it(name, () => test(name, file, file.slice(0, -'.tlr'.length), fs.readFileSync(file, 'utf8')));
  }
}

for (const kind of ['valid', 'invalid'] as const) {
  describe(`${kind} recipes`, () => {
    eachFixture(path.join(ROOT, kind), (name, file, base, text) => {
      const r = compile(text, { file });
      const errors = r.diagnostics.filter((d) => d.severity === 'error');
      if (kind === 'valid') {
        expect(errors.map((d) => d.message)).toEqual([]);
        golden(`${base}.plan.json`, `${normalize(JSON.stringify(r.plan, null, 2))}\n`);
      } else {
        expect(errors.length).toBeGreaterThan(0);
      }
      const rendered = renderDiagnostics(r.diagnostics, `${kind}/${name}`, text, { color: false });
      if (r.diagnostics.length || fs.existsSync(`${base}.diagnostics`))
        golden(`${base}.diagnostics`, `${normalize(rendered)}\n`);

      const f = format(text);
      if (!f.ok) return;
      golden(`${base}.tlr.fmt`, f.text);
      // fmt is idempotent and never changes the plan or the diagnostics' codes.
      const again = format(f.text);
      expect(again.ok && again.text).toBe(f.text);
      const r2 = compile(f.text, { file });
      expect(r2.plan).toEqual(r.plan);
      expect(r2.diagnostics.map((d) => d.code).sort()).toEqual(r.diagnostics.map((d) => d.code).sort());
    });
  });
}

// Sweeps: test/fixtures/sweeps/{valid,invalid}/NAME.tlr with NAME.variants (the grid's shape, then each
// variant's id, choices and trainable parameters), NAME.diagnostics and NAME.tlr.fmt.
const SWEEPS = path.join(ROOT, 'sweeps');

const variantsText = (sweep: NonNullable<ReturnType<typeof compile>['sweep']>): string =>
  [
    `${sweep.variants.length} variants: ${sweepShape(sweep)}`,
    ...sweep.variants.map(
      ({ variant, plan }) =>
        `${variant.id}  ${variant.name}  ${plan ? `${trainableParams(plan).toLocaleString('en-US')} trainable` : 'does not check'}`,
    ),
  ].join('\n');

const ids = (text: string) =>
  expand(text)
    .variants.map((v) => `${v.id} ${v.choices.map((c) => `${c.slot} ${c.value}`).sort()}`)
    .sort();

for (const kind of ['valid', 'invalid'] as const) {
  describe(`${kind} sweeps`, () => {
    eachFixture(path.join(SWEEPS, kind), (name, file, base, text) => {
      const r = compile(text, { file, sweeps: true });
      const errors = r.diagnostics.filter((d) => d.severity === 'error');
      if (kind === 'valid') expect(errors.map((d) => d.message)).toEqual([]);
      else expect(errors.length).toBeGreaterThan(0);
      if (r.sweep) golden(`${base}.variants`, `${variantsText(r.sweep)}\n`);
      const rendered = renderDiagnostics(r.diagnostics, `sweeps/${kind}/${name}`, text, { color: false });
      if (r.diagnostics.length || fs.existsSync(`${base}.diagnostics`))
        golden(`${base}.diagnostics`, `${normalize(rendered)}\n`);

      const f = format(text);
      if (!f.ok) return;
      golden(`${base}.tlr.fmt`, f.text);
      // fmt is idempotent and keeps every variant: its id, its choices and its plan.
      const again = format(f.text);
      expect(again.ok && again.text).toBe(f.text);
      expect(ids(f.text)).toEqual(ids(text));
      const r2 = compile(f.text, { file, sweeps: true });
      const plans = (s: typeof r.sweep) => Object.fromEntries((s?.variants ?? []).map((v) => [v.variant.id, v.plan]));
      expect(plans(r2.sweep)).toEqual(plans(r.sweep));
      expect(r2.diagnostics.map((d) => d.code).sort()).toEqual(r.diagnostics.map((d) => d.code).sort());
    });
  });
}
