import { compile } from '../../compiler/index.js';
import { explain, explainMarkdown } from '../../review/explain.js';
import { explainPage } from '../../report/explain-html.js';
import { estimates } from '../estimate-text.js';
import { sweepExplainMarkdown, sweepExplainPage } from '../sweep-text.js';
import { problemsText, readSource } from '../sources.js';
import { useColor, UsageError, type Output } from '../io.js';

/** \`tlr explain\`: the recipe as Markdown (or HTML). */
export function explainCommand(
  args: readonly string[],
  flags: { html: boolean; stdinFilename?: string },
  io: Output,
): number {
  if (args.length !== 1) throw new UsageError('tlr explain takes one recipe file (or - for stdin)');
  const src = readSource(args[0]!, { stdinFilename: flags.stdinFilename });
  const { diagnostics, plan, sweep } = compile(src.text, { file: src.file, sweeps: true });
  if (sweep?.variants.every((v) => v.plan)) {
    io.out(flags.html ? sweepExplainPage(src.label, sweep) : sweepExplainMarkdown(src.label, sweep));
    return 0;
  }
  if (!plan) {
    io.err(problemsText(src, diagnostics, useColor(process.stderr)));
    return 1;
  }
  const doc = explain(plan, estimates(plan));
  io.out(flags.html ? explainPage(doc, src.label) : explainMarkdown(doc, src.label));
  return 0;
}
