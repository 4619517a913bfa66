import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * A worker thread running the module `name` beside `base` (a module's import.meta.url): the built
 * `name.js`, or from source (tests, benches) `name.ts` through tsx's loader.
 */
export function spawnWorker(base: string, name: string, workerData: unknown): Worker {
  if (!base.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, base), { workerData });
  // tsx's ESM API (its package exports name the CommonJS build for require.resolve).
  const tsx = pathToFileURL(
    path.join(path.dirname(createRequire(base).resolve('tsx/package.json')), 'dist/esm/api/index.mjs'),
  ).href;
  const entry = new URL(`./${name}.ts`, base).href;
  const boot =
    `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return ` + `import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true, workerData });
}
