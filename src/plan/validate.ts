import { Ajv } from 'ajv';
import { createRequire } from 'node:module';
import type { Plan } from './types.js';
import { TlrError } from '../errors.js';

// Read at run time: the schema lives at the package root, beside src/ and dist/ alike.
const schema = createRequire(import.meta.url)('../../schema/plan.schema.json') as object;
const ajv = new Ajv({ allErrors: true, strict: true });
const validator = ajv.compile<Plan>(schema);

/** A plan that is not valid against schema/plan.schema.json; lists each error with its path. */
export class PlanError extends TlrError {
  constructor(readonly errors: readonly string[]) {
    super(`the plan is not valid against schema/plan.schema.json:\n  ${errors.join('\n  ')}`);
  }
}

/** Validates a plan against the JSON Schema; returns the errors (empty when valid). */
export function planErrors(plan: unknown): string[] {
  if (validator(plan)) return [];
  return (validator.errors ?? []).map((e) => {
    const allowed = e.params && 'allowedValues' in e.params ? (e.params.allowedValues as unknown[]) : null;
    return `${e.instancePath || '/'} ${e.message ?? ''}${allowed ? ` (${allowed.join(', ')})` : ''}`;
  });
}

/** Throws PlanError unless `plan` is a valid plan. */
export function assertPlan(plan: unknown): asserts plan is Plan {
  const errors = planErrors(plan);
  if (errors.length) throw new PlanError(errors);
}
