import { Ajv, type ValidateFunction } from 'ajv';
import { createRequire } from 'node:module';
import type { Plan } from './plan.js';
import { TlrError } from '../errors.js';

// Every contract, validated against its JSON Schema in schema/ (the one source: the TypeScript types in generated/ are
// made from the same files by `npm run contracts`, and the Python engine's tests validate against them too).

/** Each contract and its schema. */
export const CONTRACT_SCHEMAS = {
  plan: 'plan.schema.json',
  event: 'events.schema.json',
  report: 'report.schema.json',
  metrics: 'metrics.schema.json',
  environment: 'environment.schema.json',
  engine: 'run-engine.schema.json',
  sweep: 'sweep.schema.json',
  manifest: 'manifest.schema.json',
  job: 'job.schema.json',
  network: 'network.schema.json',
  labels: 'labels.schema.json',
  preprocessing: 'preprocessing.schema.json',
  modelMarker: 'model-marker.schema.json',
  tfjsModel: 'tfjs-model.schema.json',
  checkpointState: 'checkpoint-state.schema.json',
  nodes: 'nodes.schema.json',
  optimizerState: 'optimizer-state.schema.json',
  int8: 'int8.schema.json',
} as const;

export type ContractKind = keyof typeof CONTRACT_SCHEMAS;

// Read at run time: the schemas live at the package root, beside src/ and dist/ alike.
const need = createRequire(import.meta.url);
let ajv: Ajv | null = null;
const compiled = new Map<ContractKind, ValidateFunction>();

/** Adds a schema file and, first, every schema file it refers to (the playground has only the plan's). */
function add(a: Ajv, file: string): void {
  if (a.getSchema(file)) return;
  const schema = need(`../../schema/${file}`) as object;
  for (const m of JSON.stringify(schema).matchAll(/"\$ref":"([a-z-]+\.schema\.json)/g)) add(a, m[1]!);
  a.addSchema(schema, file);
}

/** The validator of `kind`, compiled on first use (one Ajv, so the schemas' $refs between each other resolve). */
function validator(kind: ContractKind): ValidateFunction {
  const done = compiled.get(kind);
  if (done) return done;
  ajv ??= new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, discriminator: true });
  add(ajv, CONTRACT_SCHEMAS[kind]);
  const v = ajv.getSchema(CONTRACT_SCHEMAS[kind])!;
  compiled.set(kind, v);
  return v;
}

/** Why `value` is not a valid `kind` (one line per error, with its path); empty when it is. */
export function contractErrors(kind: ContractKind, value: unknown): string[] {
  const v = validator(kind);
  if (v(value)) return [];
  return (v.errors ?? []).map((e) => {
    const p = e.params as Record<string, unknown> | undefined;
    const extra =
      p && 'additionalProperty' in p
        ? `: ${String(p['additionalProperty'])}`
        : p && 'allowedValues' in p
          ? ` (${(p['allowedValues'] as unknown[]).join(', ')})`
          : '';
    return `${e.instancePath || '/'} ${e.message ?? ''}${extra}`;
  });
}

/** A plan that is not valid against schema/plan.schema.json; lists each error with its path. */
export class PlanError extends TlrError {
  constructor(readonly errors: readonly string[]) {
    super(`the plan is not valid against schema/plan.schema.json:\n  ${errors.join('\n  ')}`);
  }
}

/** Validates a plan against the JSON Schema; returns the errors (empty when valid). */
export const planErrors = (plan: unknown): string[] => contractErrors('plan', plan);

/** Throws PlanError unless `plan` is a valid plan. */
export function assertPlan(plan: unknown): asserts plan is Plan {
  const errors = planErrors(plan);
  if (errors.length) throw new PlanError(errors);
}
