import { Ajv, type ValidateFunction } from 'ajv';
import { createRequire } from 'node:module';

// The run folder's files and the event stream, defined once as JSON Schemas in schema/ (the
// Python engine validates against the same files in its tests). Every engine writes these; the
// headers below version report.json and environment.json as `format`/`version` version plans.

export const REPORT_HEADER = { format: 'tlr-report', version: 1 } as const;
export const ENVIRONMENT_HEADER = { format: 'tlr-environment', version: 1 } as const;

/** What each schema describes. */
export const RUN_FILES = {
  event: 'events.schema.json',
  report: 'report.schema.json',
  metrics: 'metrics.schema.json',
  environment: 'environment.schema.json',
  engine: 'run-engine.schema.json',
  sweep: 'sweep.schema.json',
} as const;

export type RunFileKind = keyof typeof RUN_FILES;

const need = createRequire(import.meta.url);
let compiled: Map<RunFileKind, ValidateFunction> | null = null;

/** The validators, compiled on first use (with the plan's and the shared definitions). */
function validators(): Map<RunFileKind, ValidateFunction> {
  if (compiled) return compiled;
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  ajv.addSchema(need('../../schema/common.schema.json') as object);
  ajv.addSchema(need('../../schema/plan.schema.json') as object);
  compiled = new Map();
  for (const [kind, file] of Object.entries(RUN_FILES)) {
    compiled.set(kind as RunFileKind, ajv.compile(need(`../../schema/${file}`) as object));
  }
  return compiled;
}

/** Why `value` is not a valid `kind` (one line per error, with its path); empty when it is. */
export function runFileErrors(kind: RunFileKind, value: unknown): string[] {
  const v = validators().get(kind)!;
  if (v(value)) return [];
  return (v.errors ?? [])
    .filter((e) => e.keyword !== 'if')
    .map((e) => {
      const extra = e.params && 'additionalProperty' in e.params ? `: ${String(e.params.additionalProperty)}` : '';
      return `${e.instancePath || '/'} ${e.message ?? ''}${extra}`;
    });
}
