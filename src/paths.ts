import * as path from 'node:path';

/** A path as a user reads it: relative to `from` when that is short (at most two levels up), else absolute. */
export function displayPath(from: string, abs: string): string {
  const r = path.relative(from, abs);
  if (!r) return '.';
  if (path.isAbsolute(r) || r.startsWith('../../..')) return abs;
  return r.startsWith('..') ? r : `./${r}`;
}
