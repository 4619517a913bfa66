import * as fs from 'node:fs';
import * as path from 'node:path';
import { WeightsError } from './tensors.js';
import { writeFileAtomic } from '../../files/atomic.js';

// tlr.lock, beside the recipes of a folder (like a package lock): the sha256 of every set of weights
// a recipe there has used, keyed by where they came from. Later runs verify against it.

export const LOCK_FILE = 'tlr.lock';

interface Lock {
  version: 1;
  weights: Record<string, { sha256: string; format: string; locked: string }>;
}

const read = (file: string): Lock => {
  if (!fs.existsSync(file)) return { version: 1, weights: {} };
  try {
    const j = JSON.parse(fs.readFileSync(file, 'utf8')) as Lock;
    if (j?.version !== 1 || typeof j.weights !== 'object' || j.weights === null || Array.isArray(j.weights))
      throw new Error('it is not a version 1 lock file');
    for (const [key, e] of Object.entries(j.weights)) {
      if (!e || typeof e !== 'object' || typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256))
        throw new Error(`its entry for ${key} has no valid sha256`);
    }
    return j;
  } catch (e) {
    throw new WeightsError(
      `${file} cannot be read (${(e as Error).message}); fix it or delete it to lock the weights again`,
    );
  }
};

/** Checks `sha256` against the lock in `dir`, recording it when it is new. Throws on a mismatch. */
export function verifyLock(dir: string, key: string, sha256: string, format: string): 'locked' | 'verified' {
  const file = path.join(dir, LOCK_FILE);
  const lock = read(file);
  const had = lock.weights[key];
  if (had) {
    if (had.sha256 !== sha256) {
      throw new WeightsError(`the weights from ${key} have sha256 ${sha256}, but ${file} pins ${had.sha256}`, [
        'they changed since they were first used here; if you trust the new ones, delete their ' +
          'entry from the lock file',
      ]);
    }
    return 'verified';
  }
  lock.weights[key] = { sha256, format, locked: new Date().toISOString() };
  writeFileAtomic(file, `${JSON.stringify(lock, null, 2)}\n`);
  return 'locked';
}
