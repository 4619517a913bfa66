import { autocompletion, type CompletionContext } from '@codemirror/autocomplete';
import { linter, type Diagnostic as CmDiagnostic } from '@codemirror/lint';
import type { Text } from '@codemirror/state';
import { hoverTooltip } from '@codemirror/view';
import { basicSetup, EditorView } from 'codemirror';
import { standIn, standInShape } from './stand-in.js';
import { EXPLAIN_CSS, explainSectionHtml } from '../report/explain-html.js';
import { explain } from '../review/explain.js';
import { planListing } from '../review/plan-listing.js';
import { codeActions, completion, diagnostics, hover, openDoc, type Doc, type Pos } from '../lsp/services.js';

// The playground: the compiler and the language services in a page, on CodeMirror. There is no
// file system here, so every data folder a recipe names stands for a made-up data set (stand-in.ts;
// the page says so). A recipe travels in the URL's fragment (#r=…).

const FILE = '/playground/recipe.tlr';
const START = `recipe "strawberries"

from resnet34

freeze until block3

head dense(2)

train 10 epochs on ./strawberries
`;

const compileText = (text: string): Doc =>
  openDoc(FILE, text, { probe: standIn(standInShape(text)), exists: () => 'dir' });

let doc = compileText(START);
const docFor = (t: Text) => {
  const text = t.toString();
  if (doc.text !== text) doc = compileText(text);
  return doc;
};

const offset = (t: Text, p: Pos) => {
  const line = t.line(Math.min(p.line + 1, t.lines));
  return Math.min(line.from + p.character, line.to);
};
const posOf = (t: Text, off: number): Pos => {
  const line = t.lineAt(off);
  return { line: line.number - 1, character: off - line.from };
};

function applyFix(view: EditorView, from: number, to: number, insert: string) {
  view.dispatch({ changes: { from, to, insert } });
}

const lint = linter(
  (view) => {
    const t = view.state.doc,
      d = docFor(t);
    return diagnostics(d).map(
      (x): CmDiagnostic => ({
        from: offset(t, x.range.start),
        to: Math.max(offset(t, x.range.end), offset(t, x.range.start)),
        severity: x.severity === 1 ? 'error' : 'warning',
        source: x.code,
        message: x.message,
        actions: x.data.fixes.map((fix) => ({
          name: `→ ${fix}`,
          apply: (v, from, to) => applyFix(v, from, to, fix),
        })),
      }),
    );
  },
  { delay: 150 },
);

const complete = (ctx: CompletionContext) => {
  const word = ctx.matchBefore(/[\w./-]*/);
  const items = completion(docFor(ctx.state.doc), posOf(ctx.state.doc, ctx.pos));
  if (!items.length) return null;
  return {
    from: word ? word.from : ctx.pos,
    options: items.map((c) => ({ label: c.label, detail: c.detail, type: c.kind === 14 ? 'keyword' : 'variable' })),
  };
};

const tooltips = hoverTooltip((view, pos) => {
  const h = hover(docFor(view.state.doc), posOf(view.state.doc, pos));
  if (!h) return null;
  return {
    pos: offset(view.state.doc, h.range.start),
    end: offset(view.state.doc, h.range.end),
    create: () => {
      const dom = document.createElement('pre');
      dom.className = 'tlr-hover';
      dom.textContent = h.contents.replace(/\*\*/g, '');
      return { dom };
    },
  };
});

/** The side panel: problems with their fixes, the explained recipe, the plan aspect by aspect. */
function render(view: EditorView) {
  const t = view.state.doc,
    d = docFor(t);
  const problems = document.getElementById('problems')!;
  problems.replaceChildren();
  const diags = diagnostics(d);
  if (!diags.length) problems.innerHTML = '<div class="ok">no problems</div>';
  for (const x of diags) {
    const row = document.createElement('div');
    row.className = x.severity === 1 ? 'error' : 'warning';
    row.textContent = `${x.range.start.line + 1}:${x.range.start.character + 1} ${x.code} ${x.message.split('\n')[0]}`;
    for (const a of codeActions(d, x.range).filter((c) => c.diagnostic.code === x.code)) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'fix';
      b.textContent = a.edit.newText;
      b.onclick = () => applyFix(view, offset(t, a.edit.range.start), offset(t, a.edit.range.end), a.edit.newText);
      row.append(b);
    }
    problems.append(row);
  }
  // A sweep has no one plan: its first variant's stands for it, said as such.
  const sweep = d.compiled.sweep;
  const plan = d.compiled.plan ?? sweep?.variants[0]?.plan ?? null;
  const head = sweep
    ? `a sweep of ${sweep.variants.length} variants (tlr plan lists them); the first, ` +
      `${sweep.variants[0]!.variant.id} (${sweep.variants[0]!.variant.name}):\n\n`
    : '';
  document.getElementById('plan')!.textContent = plan ? head + planListing(plan) : 'no plan: fix the problems first';
  document.getElementById('explain')!.innerHTML = plan ? explainSectionHtml(explain(plan), 'recipe.tlr', 4) : '';
  const shape = standInShape(t.toString());
  document.getElementById('note')!.textContent =
    `${linkProblem}Data checks are off in the browser: every data folder stands for ` +
    (shape.multi
      ? `${shape.k} labels on ${100 * shape.k} images, two labels each (multi-label; as many as the head’s last ` +
        'dense layer has units).'
      : `${shape.k} classes of 100 images (as many as the head’s last dense layer has units).`);
}

/** What was wrong with the link's recipe, said above the note (the page shows the example instead). */
let linkProblem = '';

/** The recipe in the link (#r=…), or null; a fragment that is not valid percent-encoding is said, not thrown. */
const fromHash = () => {
  const m = /^#r=(.*)$/s.exec(location.hash);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    linkProblem = 'The link’s recipe is not valid percent-encoding, so the example is shown instead. ';
    return null;
  }
};

const style = document.createElement('style');
style.textContent = EXPLAIN_CSS;
document.head.append(style);

const view = new EditorView({
  doc: fromHash() ?? START,
  extensions: [
    basicSetup,
    lint,
    tooltips,
    autocompletion({ override: [complete] }),
    EditorView.updateListener.of((u) => {
      if (u.docChanged) render(u.view);
    }),
  ],
  parent: document.getElementById('editor')!,
});
render(view);

document.getElementById('share')!.onclick = () => {
  const url = `${location.href.split('#')[0]}#r=${encodeURIComponent(view.state.doc.toString())}`;
  history.replaceState(null, '', url);
  void navigator.clipboard?.writeText(url).catch(() => undefined);
};

// For the browser test: the editor, to type into.
(window as unknown as { tlrPlayground: object }).tlrPlayground = { view };
