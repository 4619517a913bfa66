import { compile } from '../../compiler/index.js';
import { explain, explainMarkdown } from '../../review/explain.js';
import { explainPage } from '../../report/explain-html.js';
import { estimates } from '../estimate-text.js';
import { sweepExplainMarkdown, sweepExplainPage } from '../sweep-text.js';
import { problemsText, readSource } from '../sources.js';
import { useColor, UsageError, type Output } from '../io.js';

export const EXPLAIN_HELP = `usage: tlr explain FILE|- [--html] [--stdin-filename PATH]

The recipe as a document for a reviewer, in Markdown that GitHub renders: a summary, the data
(classes, images per part, where they come from), each stage in sentences with a Mermaid diagram
of the network's blocks coloured frozen, trained and new head, the compute per stage with a time
estimate per engine (once \`tlr doctor --calibrate\` has measured this machine), and where results go.
  --html   a self-contained HTML page with the same content instead (redirect it to a file)
  --stdin-filename PATH  where a recipe read from stdin (-) stands: its relative paths start there`;

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
