import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';
import { runFileErrors } from '../../src/runtime/run-files.js';

// The run folder and the event stream checked against schema/ (the same files the Python engine's
// tests validate against), whichever engine wrote them.

/** Every NDJSON line of `tlr run --json` is a valid event; returns them parsed. */
export function validEvents(ndjson: string): { type: string }[] {
  const events = ndjson
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string });
  const wrong = events.flatMap((e, i) => runFileErrors('event', e).map((m) => `line ${i + 1} (${e.type}): ${m}`));
  expect(wrong).toEqual([]);
  return events;
}

/** A finished run folder's report.json, environment.json, engine.json and metrics.jsonl are valid. */
export function expectValidRunFolder(dir: string): void {
  const read = (f: string) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as unknown;
  const wrong = [
    ...runFileErrors('report', read('report.json')).map((m) => `report.json ${m}`),
    ...runFileErrors('environment', read('environment.json')).map((m) => `environment.json ${m}`),
    ...runFileErrors('engine', read('engine.json')).map((m) => `engine.json ${m}`),
    ...fs
      .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .flatMap((l, i) => runFileErrors('metrics', JSON.parse(l)).map((m) => `metrics.jsonl line ${i + 1} ${m}`)),
  ];
  expect(wrong).toEqual([]);
}
