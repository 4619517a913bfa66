import * as os from 'node:os';
import * as path from 'node:path';

/** tlr's cache folder: $TLR_CACHE, else ~/.cache/tlr. */
export const cacheRoot = (env: NodeJS.ProcessEnv = process.env): string =>
  env['TLR_CACHE'] || path.join(os.homedir(), '.cache', 'tlr');
