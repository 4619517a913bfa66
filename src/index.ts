// The library API. The CLI is one client of it; editors and scripts are others.
export { compile, parse, toAst, check, toPlan, format } from './compiler/index.js';
export type { Compiled, Diagnostic, Plan, Ast } from './compiler/index.js';
export { renderDiagnostics, diagnosticJson } from './compiler/render.js';
export { CODES } from './compiler/codes.js';
export { assertPlan, planErrors, PlanError } from './contracts/validate.js';
export { PLAN_FORMAT, PLAN_VERSION } from './contracts/plan.js';
export { describe, FAMILIES, MODEL_NAMES } from './zoo/catalog.js';
