import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';
import { contractErrors } from '../../src/contracts/validate.js';
import { runFolderProblems } from '../../src/contracts/read.js';

// The run folder and the event stream checked against schema/ (the same files the Python engine's
// tests validate against), whichever engine wrote them.

/** Every NDJSON line of `tlr run --json` is a valid event; returns them parsed. */
export function validEvents(ndjson: string): { type: string }[] {
  const events = ndjson
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string });
  const wrong = events.flatMap((e, i) => contractErrors('event', e).map((m) => `line ${i + 1} (${e.type}): ${m}`));
  expect(wrong).toEqual([]);
  return events;
}

/** Every contract file of a run folder (its model folder and checkpoint too) is valid, and none lacks a schema. */
export function expectValidRunFolder(dir: string): void {
  expect(runFolderProblems(dir)).toEqual([]);
  for (const f of ['plan.json', 'report.json', 'environment.json', 'engine.json', 'metrics.jsonl', 'model/labels.json'])
    expect(fs.existsSync(path.join(dir, f)), f).toBe(true);
}
