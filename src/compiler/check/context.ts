import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Diagnostic } from '../diagnostics.js';
import { displayPath } from '../../paths.js';
import { diag } from '../diagnostics.js';
import type { Code } from '../codes.js';
import type { Num } from '../ast.js';
import type { Span } from '../source.js';
import type { Probe, ProbeResult } from '../../data/formats/index.js';

export interface CheckOptions {
  /** The recipe's path; relative paths in it are resolved against its folder. */
  readonly file: string;
  /** Looks at a data folder; defaults to the file system. */
  readonly probe: Probe;
  readonly exists: (absPath: string) => 'file' | 'dir' | null;
}

/** Shared state of one check: the options and the diagnostics found so far. */
export class Ctx {
  readonly diagnostics: Diagnostic[] = [];
  private readonly probes = new Map<string, ProbeResult>();
  readonly dir: string;

  constructor(readonly opts: CheckOptions) {
    this.dir = path.dirname(path.resolve(opts.file));
  }

  report(code: Code, span: Span, message: string, hints: readonly string[] = []): void {
    this.diagnostics.push(diag(code, span, message, hints));
  }

  resolve(p: string): string {
    const home = process.env['HOME'] ?? '';
    if (p === '~' || p.startsWith('~/')) return path.join(home, p.slice(1));
    return path.resolve(this.dir, p);
  }

  /** A path as the user should see it: relative to the recipe when inside its folder tree. */
  show(abs: string): string {
    return displayPath(this.dir, abs);
  }

  probe(abs: string): ProbeResult {
    let r = this.probes.get(abs);
    if (!r) {
      r = this.opts.probe(abs);
      this.probes.set(abs, r);
    }
    return r;
  }

  /** Names in a folder, for suggestions; empty when it cannot be read. */
  siblings(dir: string): string[] {
    try {
      return fs.readdirSync(dir).filter((n) => !n.startsWith('.'));
    } catch {
      return [];
    }
  }

  /** A whole number in [min, max], or null (reported). */
  int(n: Num, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number | null {
    if (!Number.isInteger(n.value)) {
      this.report('TLR1502', n.span, `${what} must be a whole number, not ${n.text}`, [
        `write ${Math.max(min, Math.round(n.value))}`,
      ]);
      return null;
    }
    if (n.value < min || n.value > max) {
      this.report(
        'TLR1501',
        n.span,
        `${what} must be ${max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`}` +
          `, not ${n.text}`,
      );
      return null;
    }
    return n.value;
  }

  /** A number in the open/closed interval described by `range` (text like "0 < lr < 10"), or null (reported). */
  real(n: Num, what: string, ok: (v: number) => boolean, range: string): number | null {
    if (!Number.isFinite(n.value) || !ok(n.value)) {
      this.report('TLR1501', n.span, `${what} is out of range: ${n.text} (it must be ${range})`);
      return null;
    }
    return n.value;
  }
}
