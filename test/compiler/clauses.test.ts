import { describe, expect, it } from 'vitest';
import { CLAUSES, KINDS, kindsOf, STATEMENT_KINDS, USAGE } from '../../src/compiler/clauses.js';
import { STATEMENT_HINT } from '../../src/compiler/clause-words.js';
import { parser } from '../../src/compiler/grammar.js';
import { CHECKS } from '../../src/compiler/check/checks.js';
import { compile, format } from '../../src/compiler/index.js';

// The clause table is the one list of clauses: every grammar statement has a row, every row a
// grammar rule, and the parser's hints, the checker's grouping and fmt's layout follow it.

describe('clause table', () => {
  const productions = parser.getGAstProductions() as unknown as Record<string, { definition: unknown[] }>;
  const rules = new Set(Object.keys(productions));
  const statementRules = (
    productions['statement']!.definition[0] as { definition: { definition: { nonTerminalName: string }[] }[] }
  ).definition.map((alt) => alt.definition[0]!.nonTerminalName);

  // The sweep rule's alternatives: its own clauses first (gated), then lists and every other token.
  type Alts = { definition: { definition: { nonTerminalName?: string }[] }[] };
  const sweepRules = ((productions['sweep']!.definition[0] as { definition: Alts[] }).definition[0] as Alts).definition
    .map((alt) => alt.definition[0]!.nonTerminalName)
    .filter((r): r is string => !!r && r !== 'list');

  it("has a row for every statement the grammar parses, in the grammar's order, and each row names a real rule", () => {
    expect(STATEMENT_KINDS.map((k) => CLAUSES[k].rule)).toEqual(statementRules);
    expect(kindsOf('sweep').map((k) => CLAUSES[k].rule)).toEqual(sweepRules);
    expect([...STATEMENT_KINDS, ...kindsOf('sweep')].sort()).toEqual([...KINDS].sort());
    for (const k of KINDS) expect(rules.has(CLAUSES[k].rule), k).toBe(true);
  });

  it("gives every clause to a check that exists (the sweep's to compiler/sweep.ts), and every check reads one", () => {
    const checks = Object.keys(CHECKS);
    for (const k of STATEMENT_KINDS) expect(checks, k).toContain(CLAUSES[k].check);
    for (const k of kindsOf('sweep')) expect(CLAUSES[k].check, k).toBeNull();
    for (const c of checks)
      expect(
        KINDS.some((k) => CLAUSES[k].check === c),
        c,
      ).toBe(true);
  });

  it('gives the parser a usage line for each clause and a hint naming every clause', () => {
    for (const k of KINDS) expect(USAGE[CLAUSES[k].rule]).toBe(CLAUSES[k].usage);
    for (const k of STATEMENT_KINDS) expect(STATEMENT_HINT).toContain(CLAUSES[k].words.replace(/ on$/, ''));
  });

  it('a stage clause given twice in one stage is reported; in two stages it is fine', () => {
    for (const k of kindsOf('stage').filter((k) => !['freeze', 'unfreeze', 'train'].includes(k))) {
      const line = {
        batch: 'batch 8',
        optimizer: 'optimizer sgd',
        lr: 'lr 0.01',
        earlyStop: 'early stop',
        classWeights: 'class weights auto',
        balance: 'balance classes',
        batchnorm: 'keep batchnorm statistics',
      }[k as 'batch']!;
      const twice = compile(`from resnet18\ntrain 1 epoch on ./x\n${line}\n${line}\n`, {
        file: 'r.tlr',
        probe: () => ({ ok: false, problem: 'missing', message: '', hints: [] }),
        exists: () => null,
      });
      expect(
        twice.diagnostics.map((d) => d.code),
        k,
      ).toContain('TLR1401');
      const apart = compile(`from resnet18\ntrain 1 epoch on ./x\n${line}\nthen train 1 epoch\n${line}\n`, {
        file: 'r.tlr',
        probe: () => ({ ok: false, problem: 'missing', message: '', hints: [] }),
        exists: () => null,
      });
      expect(
        apart.diagnostics.map((d) => d.code),
        k,
      ).not.toContain('TLR1401');
    }
  });

  it("fmt writes each clause with its row's text", () => {
    const f = format(
      'save last to ./m\nsplit 70/30\ntrain 3 epochs on ./d lr 0.1 cosine\nfrom resnet18 weights none\n',
    );
    expect(f.ok && f.text).toBe(
      'from resnet18\n  weights none\n\ntrain 3 epochs on ./d\n  lr 0.1 cosine\n\nsplit 70/30\n\nsave last to ./m\n',
    );
  });
});
