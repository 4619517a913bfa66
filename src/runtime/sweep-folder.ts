import * as fs from 'node:fs';
import * as path from 'node:path';
import { trainableParams, type Plan } from '../contracts/plan.js';
import { writeFileAtomic } from '../files/atomic.js';
import { newOutputDir, RunError, stamp } from './run-folder.js';
import { ContractFileError, readContract } from '../contracts/read.js';
import type * as G from '../contracts/generated/contracts.js';
import type { ReadOnly } from '../contracts/plan.js';

// A sweep's folder (runs/<recipe>/sweep-<timestamp>/): sweep.json (schema/sweep.schema.json) and
// one folder per variant, named by the variant's id, that holds the variant's run folder. sweep.json
// is rewritten atomically whenever a variant starts, finishes or fails, so an interrupted sweep
// resumes from it (`tlr run --resume SWEEP_DIR`).

export const SWEEP_FILE = 'sweep.json';

/** A variant as sweep.json records it (schema/sweep.schema.json); its status and results change as it runs. */
export type SweepVariant = Omit<G.SweepRecord['variants'][number], 'plan'> & { readonly plan: Plan };
/** `screened`: stopped after the sweep's K epochs, waiting for the others; `stopped early`: not among the best N. */
export type VariantStatus = SweepVariant['status'];

/** sweep.json: the sweep's choices and its variants (schema/sweep.schema.json). */
export type SweepRecord = Omit<ReadOnly<G.SweepRecord>, 'variants'> & { readonly variants: SweepVariant[] };

export { trainableParams };

/** A new sweep folder beside the recipe's runs, with its plans pointed into it. */
export function newSweepFolder(runsDir: string, record: SweepRecord): string {
  const dir = newOutputDir(runsDir, `sweep-${stamp(new Date())}`);
  writeSweep(dir, record);
  return dir;
}

/** Where a variant's runs go: its own folder in the sweep. */
/**
 * A variant's plan as the sweep runs it: its run folder under the sweep's, and no `save … to` (every variant would
 * write the same folder, the last one winning); the sweep saves its best variant's model there at the end.
 */
export const variantPlan = (dir: string, v: SweepVariant): Plan => ({
  ...v.plan,
  output: { ...v.plan.output, runsDir: path.resolve(dir, v.id) },
  save: { ...v.plan.save, to: null },
});

export function writeSweep(dir: string, record: SweepRecord): void {
  writeFileAtomic(path.join(dir, SWEEP_FILE), `${JSON.stringify(record, null, 2)}\n`);
}

/** Whether `dir` is a sweep folder. */
export const isSweepFolder = (dir: string): boolean => fs.existsSync(path.join(dir, SWEEP_FILE));

/** sweep.json, checked against its schema; a RunError names the file and what is wrong. */
export function readSweep(dir: string): SweepRecord {
  try {
    return readContract('sweep', path.join(dir, SWEEP_FILE)) as SweepRecord;
  } catch (e) {
    if (e instanceof ContractFileError) throw new RunError(`${e.message}; or start the sweep again from its recipe`);
    throw e;
  }
}
