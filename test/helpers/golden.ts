import * as fs from 'node:fs';
import { expect } from 'vitest';

/** Compares `actual` with the golden file; with TLR_ACCEPT=1 writes it instead. */
export function golden(file: string, actual: string): void {
  if (process.env['TLR_ACCEPT']) {
    if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== actual) fs.writeFileSync(file, actual);
    return;
  }
  if (!fs.existsSync(file))
    throw new Error(`golden file ${file} is missing; run \`npm run test:accept\` to create it, then review it`);
  expect(actual, `differs from ${file} (run \`npm run test:accept\` to accept, then review the diff)`).toBe(
    fs.readFileSync(file, 'utf8'),
  );
}
