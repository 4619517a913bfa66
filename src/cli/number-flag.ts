import { UsageError } from '../errors.js';

/**
 * A flag's number: `fallback` when the flag is absent; else the number, when `ok` holds for it; otherwise a UsageError
 * that names the flag and says what it takes (`what`). An empty value is not 0.
 */
export function numberFlag(
  name: string,
  v: string | undefined,
  fallback: number,
  ok: (n: number) => boolean,
  what: string,
): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || !ok(n)) throw new UsageError(`--${name} takes ${what}, not '${v}'`);
  return n;
}
