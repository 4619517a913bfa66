import type { Statement, StatementKind } from '../ast.js';
import type { Ctx } from './context.js';
import { CLAUSES, kindsOf, type RecipeKind, type StageKind as StageClause } from '../clauses.js';

// Groups the flat statement list: recipe-wide statements, and stages separated by `then`.
// Every statement that may appear once (per recipe, or per stage) is checked here.

type Of<K extends StatementKind> = Extract<Statement, { kind: K }>;

type GlobalKind = RecipeKind;
type StageKind = Exclude<StageClause, 'then'>;
const STAGE: readonly string[] = kindsOf('stage');

export type Globals = { readonly [K in GlobalKind]?: Of<K> };
export type StageStatements = { readonly [K in StageKind]?: Of<K> } & { readonly then: Of<'then'> | null };

export interface Grouped {
  readonly globals: Globals;
  readonly stages: readonly StageStatements[];
}

/** How a clause is written (for messages). */
export const word = (k: StatementKind): string => CLAUSES[k].words;

/** Groups statements into recipe-wide ones and stages; reports clauses given twice. */
export function group(ctx: Ctx, statements: readonly Statement[]): Grouped {
  const globals: Record<string, Statement> = {};
  const stages: Record<string, Statement | null>[] = [{ then: null }];
  for (const s of statements) {
    const stage = stages[stages.length - 1]!;
    if (s.kind === 'then') {
      if (!stage['train']) {
        if (stages.length === 1)
          ctx.report('TLR1402', s.keyword, '`then` starts a further stage, but no stage has trained yet', [
            'write the first `train N epochs on PATH` before `then`',
          ]);
        else
          ctx.report('TLR1403', stage['then']!.keyword, 'this stage has no `train N epochs`', [
            'every `then` stage says how long it trains: `then unfreeze from block4 train 5 epochs`',
          ]);
      }
      stages.push({ then: s });
      continue;
    }
    const isStage = STAGE.includes(s.kind);
    const slot = s.kind === 'unfreeze' ? 'freeze' : s.kind;
    const into: Record<string, Statement | null> = isStage ? stage : globals;
    const prev = into[slot];
    if (prev) {
      const where = isStage && stages.length > 1 ? ' in this stage' : '';
      ctx.report(
        'TLR1401',
        s.keyword,
        `\`${word(s.kind)}\` is given twice${where}; the first is on line ${prev.span.start.line}`,
        [
          isStage
            ? 'a stage takes one of each setting; start another stage with `then` to change it'
            : `keep one \`${word(prev.kind)}\``,
        ],
      );
      continue;
    }
    into[slot] = s;
  }
  const last = stages[stages.length - 1]!;
  if (!last['train']) {
    if (last['then'])
      ctx.report('TLR1403', (last['then'] as Statement).keyword, 'this stage has no `train N epochs`', [
        'every `then` stage says how long it trains: `then unfreeze from block4 train 5 epochs`',
      ]);
    else if (stages.length === 1) {
      const at = statements[0]?.span ?? {
        start: { offset: 0, line: 1, column: 1 },
        end: { offset: 0, line: 1, column: 1 },
      };
      ctx.report('TLR1404', statements.length ? { start: at.start, end: at.start } : at, 'the recipe never trains', [
        'add `train 10 epochs on ./images`, where ./images holds one folder per class',
      ]);
    }
  }
  return { globals: globals as Globals, stages: stages as unknown as StageStatements[] };
}
