import { CODES, type Code, type Severity } from './codes.js';
import type { Span } from './source.js';

/** A problem found in a recipe: data only. Rendering lives in ./render.ts. */
export interface Diagnostic {
  readonly code: Code;
  readonly severity: Severity;
  readonly message: string;
  readonly span: Span;
  readonly hints: readonly string[];
}

/** A diagnostic with its severity and title from codes.ts. */
export function diag(code: Code, span: Span, message: string, hints: readonly string[] = []): Diagnostic {
  return { code, severity: CODES[code].severity, message, span, hints };
}

/** Whether any diagnostic is an error. */
export const hasErrors = (ds: readonly Diagnostic[]): boolean => ds.some((d) => d.severity === 'error');

/** Orders diagnostics by where they start. */
export const byPosition = (a: Diagnostic, b: Diagnostic): number =>
  a.span.start.offset - b.span.start.offset || a.code.localeCompare(b.code);
