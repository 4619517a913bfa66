import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PlanWeights } from '../../contracts/plan.js';

// Where weights for a plan would be read from, without reading them: $TLR_WEIGHTS_DIR (pre-downloaded),
// then the download cache. Plain file-system checks, so `tlr plan` can say it without TensorFlow.js.

import { cacheRoot } from '../../files/cache-root.js';

export { cacheRoot };

/** The cache folder of one set of weights. */
export const weightsCacheDir = (localName: string, env: NodeJS.ProcessEnv = process.env): string =>
  path.join(cacheRoot(env), 'weights', localName);

/** The file a weights folder is entered by, for a format. */
export const entryFile = (format: 'tfjs' | 'safetensors'): string =>
  format === 'tfjs' ? 'model.json' : 'model.safetensors';

/** Written into a cache folder once every file of a download arrived whole and matched its checksum. */
export const COMPLETE = '.tlr-complete';

/** The cache folder of weights at a URL that is not in the zoo's registry. */
export const urlCacheName = (url: string): string => `url-${Buffer.from(url).toString('base64url').slice(-48)}`;

/** A cached entry counts only when its download completed. */
const cached = (dir: string, entry: string): boolean =>
  fs.existsSync(path.join(dir, entry)) && fs.existsSync(path.join(dir, COMPLETE));

export type Located =
  | { readonly where: 'weights-dir' | 'cache' | 'file'; readonly path: string }
  | { readonly where: 'download'; readonly url: string; readonly into: string }
  | { readonly where: 'missing'; readonly path: string }
  | { readonly where: 'none' };

/**
 * Where a plan's weights are, in tlr's one lookup order: a file the recipe names; for ImageNet
 * weights $TLR_WEIGHTS_DIR/<name>/ (or <name>.safetensors), then the cache; for a URL the cache;
 * else a download into the cache. `tlr plan` shows it; `tlr run` resolves through it.
 */
export function locateWeights(w: PlanWeights, env: NodeJS.ProcessEnv = process.env): Located {
  switch (w.kind) {
    case 'none':
      return { where: 'none' };
    case 'file':
      return fs.existsSync(w.path) ? { where: 'file', path: w.path } : { where: 'missing', path: w.path };
    case 'url': {
      const dir = weightsCacheDir(urlCacheName(w.url), env);
      return cached(dir, entryFile(w.format))
        ? { where: 'cache', path: path.join(dir, entryFile(w.format)) }
        : { where: 'download', url: w.url, into: dir };
    }
    case 'imagenet': {
      const entry = entryFile(w.format);
      const pre = env['TLR_WEIGHTS_DIR'];
      if (pre) {
        for (const f of [path.join(pre, w.localName, entry), path.join(pre, `${w.localName}.safetensors`)]) {
          if (fs.existsSync(f)) return { where: 'weights-dir', path: f };
        }
      }
      const dir = weightsCacheDir(w.localName, env);
      return cached(dir, entry)
        ? { where: 'cache', path: path.join(dir, entry) }
        : { where: 'download', url: w.url, into: dir };
    }
  }
}
