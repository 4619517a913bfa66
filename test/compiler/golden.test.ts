import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, format } from '../../src/compiler/index.js';
import { renderDiagnostics } from '../../src/compiler/render.js';
import { golden } from '../helpers/golden.js';

// One runner for every fixture: test/fixtures/{valid,invalid}/NAME.tlr with, beside it,
// NAME.plan.json (the plan), NAME.diagnostics (rendered diagnostics) and NAME.tlr.fmt (fmt output).
// `npm run test:accept` rewrites them; review the diff before committing.

const ROOT = path.resolve(__dirname, '../fixtures');
const normalize = (s: string) => s.split(ROOT).join('<fixtures>');

for (const kind of ['valid', 'invalid'] as const) {
  describe(`${kind} recipes`, () => {
    const dir = path.join(ROOT, kind);
    for (const name of fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.tlr'))
      .sort()) {
      it(name, () => {
        const file = path.join(dir, name);
        const base = file.slice(0, -'.tlr'.length);
        const text = fs.readFileSync(file, 'utf8');
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
    }
  });
}
