import * as path from 'node:path';
import { resolveWeights } from '../../runtime/weights/resolve.js';
import { locateWeights } from '../../runtime/weights/locate.js';
import { compileFile, UsageError, type Output } from '../io.js';
import { renderDiagnostics } from '../../compiler/render.js';

// `tlr fetch RECIPE...`: gets everything the recipes need from the network now (their weights into
// the cache, pinned in tlr.lock), so that later runs work offline, like `terraform init`.

/** `tlr fetch`: downloads the weights of each recipe that are not cached yet. */
export async function fetchCommand(files: readonly string[], _flags: object, io: Output): Promise<number> {
  if (!files.length) throw new UsageError('tlr fetch needs at least one recipe file');
  let failed = 0;
  for (const file of files) {
    const c = compileFile(file);
    if (!c.plan) {
      io.err(renderDiagnostics(c.diagnostics, file, c.text, { color: false }));
      failed++;
      continue;
    }
    const w = c.plan.model.weights,
      at = locateWeights(w);
    if (at.where === 'none') {
      io.out(`${file}: nothing to fetch (weights none: training from scratch)`);
      continue;
    }
    let last = 0;
    const r = await resolveWeights(w, {
      lockDir: path.dirname(c.plan.recipe.file),
      what: `the weights of ${file}`,
      onProgress: (p) => {
        if (p.received - last > 4e6 || p.received === p.total) {
          last = p.received;
          io.err(
            `  ${p.url}: ${(p.received / 1e6).toFixed(1)}${p.total ? ` of ${(p.total / 1e6).toFixed(1)}` : ''} MB`,
          );
        }
      },
    });
    const how = at.where === 'download' ? 'downloaded into' : r!.from === 'cache' ? 'already cached in' : 'found in';
    const pin = `sha256 ${r!.sha256.slice(0, 12)}…, ${r!.lock ?? 'not locked'}`;
    io.out(`${file}: ${how} ${path.dirname(r!.entry)} (${pin})`);
  }
  return failed ? 1 : 0;
}
