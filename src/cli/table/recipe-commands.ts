import { checkCommand } from '../commands/check.js';
import { planCommand } from '../commands/plan.js';
import { fmtCommand } from '../commands/fmt.js';
import { diffCommand } from '../commands/diff.js';
import { explainCommand } from '../commands/explain.js';
import { lspCommand } from '../commands/lsp.js';
import { modelsCommand } from '../commands/models.js';
import { common, str, type CommandRow } from './row.js';

// The commands that read recipes and the zoo: they never load TensorFlow.js or ONNX Runtime (a test watches this),
// so their handlers are imported here; fetch and pack load theirs on use.

export const RECIPE_COMMANDS: readonly CommandRow[] = [
  {
    name: 'check',
    summary: 'check recipes (files, folders, -): syntax, the model, the data, every setting',
    usage: ['FILE|FOLDER|GLOB|- ... [--format text|json|github|sarif] [--deep]'],
    about: `Checks recipes: syntax, the model and its layer names, the data folder, every setting.
Prints each problem as file:line:col: error[TLRnnnn]: message, the line, a caret under it and hints.
A folder is searched for *.tlr (runs/, node_modules/, hidden folders and symbolic links skipped); - reads stdin.`,
    options: () => ({
      format: {
        type: 'string',
        value: 'FORMAT',
        choices: ['text', 'json', 'github', 'sarif'],
        help:
          'text for a terminal (the default); json: all diagnostics as one JSON array; github: GitHub Actions ' +
          'workflow commands (annotations on the lines of a pull request); sarif: SARIF 2.1.0, for code scanning',
      },
      json: common.json('the same as --format json'),
      deep: {
        type: 'boolean',
        help:
          'also decode every image the recipe would read, and name those that cannot be read (more than 1% of a ' +
          'part is an error: tlr run would stop on it); text and json only',
      },
      'stdin-filename': common.stdinFilename,
    }),
    notes: 'Exit status: 1 if any recipe has an error, 0 otherwise (warnings do not fail).',
    operands: 'recipes',
    run: (p, v, io) =>
      checkCommand(
        p,
        { json: !!v['json'], format: str(v['format']), deep: !!v['deep'], stdinFilename: str(v['stdin-filename']) },
        io,
      ),
  },
  {
    name: 'plan',
    summary: 'show what a run would do (--json: the plan itself)',
    usage: ['FILE|- [--json] [--textconv] [--stdin-filename PATH]'],
    about: `Shows what \`tlr run\` would do: the model and where its weights come from, the data and its
splits, each stage's frozen and trainable layers, feature caching, where results go, and which
engines can run it here (tfjs, and torch when a Python with torch and torchvision is found).
It ends with the compute: multiply-accumulates per image and per epoch for each stage and the whole
run, and a time for each engine that can run it here once \`tlr doctor --calibrate\` has measured it.`,
    options: () => ({
      json: common.json('print the plan itself (validated against schema/plan.schema.json)'),
      textconv: {
        type: 'boolean',
        help: 'one line per aspect of the plan, for git (docs/review.md): `git diff` then shows what runs differently',
      },
      'stdin-filename': common.stdinFilename,
    }),
    operands: 'recipes',
    run: (p, v, io) =>
      planCommand(p, { json: !!v['json'], textconv: !!v['textconv'], stdinFilename: str(v['stdin-filename']) }, io),
  },
  {
    name: 'fmt',
    summary: 'print the canonical layout (--write, --check)',
    usage: ['FILE|FOLDER|GLOB|- ... [--write | --check]'],
    about: `Prints the recipe in its canonical layout (comments kept). A folder is searched for *.tlr
(runs/, node_modules/, hidden folders and symbolic links skipped); - reads stdin and prints it formatted.`,
    options: () => ({
      write: { type: 'boolean', help: 'rewrite the files in place (atomically); prints the files it changed' },
      check: {
        type: 'boolean',
        help:
          'change nothing; exit 1 and print, for each file not in canonical layout, a unified diff of what ' +
          '--write would change',
      },
      'stdin-filename': { ...common.stdinFilename, help: 'the name a recipe read from stdin is shown under' },
    }),
    operands: 'recipes',
    run: (p, v, io) =>
      fmtCommand(p, { write: !!v['write'], check: !!v['check'], stdinFilename: str(v['stdin-filename']) }, io),
  },
  {
    name: 'diff',
    summary: 'what a change to a recipe means (files or REV:PATH; --git BASE [HEAD]; --md, --json)',
    usage: ['OLD NEW [--md | --json]', '--git BASE [HEAD] [--md | --json]'],
    about: `Compares what two recipes would run, not their text: the plans, grouped by model, data, head,
freezing, training and save, each as before → after, then what the change means: parameters that
start or stop training, whether cached features stay valid, the compute per epoch and per run (and
a time estimate per engine once \`tlr doctor --calibrate\` has measured this machine), which engines
can run it, and the latest finished runs of both plans when there are some.
A sweep on either side is compared variant by variant (matched by id, then by plan): the runs and
the whole sweep's compute and time before → after, the variants added, removed and unchanged, and
each group of variants changed alike, said as above.
OLD and NEW are files, \`-\` (stdin) or git objects as \`git show\` takes them (REV:PATH; PATH from
the repository's root, or from here when it starts with ./).`,
    options: () => ({
      git: {
        type: 'boolean',
        help:
          'every .tlr file changed between two revisions BASE and HEAD (default: the work tree), added, ' +
          'removed and renamed ones too',
      },
      md: { type: 'boolean', help: 'Markdown (a pull-request comment, $GITHUB_STEP_SUMMARY)' },
      json: common.json('the comparison as data'),
    }),
    notes: `Exit status: 0 when the plans are equal (a change of comments or layout only), 1 when they differ,
2 on a usage error or a recipe that does not check.`,
    operands: 'recipes',
    run: (p, v, io) => diffCommand(p, { git: !!v['git'], md: !!v['md'], json: !!v['json'] }, io),
  },
  {
    name: 'explain',
    summary: 'the recipe as a document: Markdown with Mermaid diagrams (--html: a page)',
    usage: ['FILE|- [--html] [--stdin-filename PATH]'],
    about: `The recipe as a document for a reviewer, in Markdown that GitHub renders: a summary, the data
(classes, images per part, where they come from), each stage in sentences with a Mermaid diagram
of the network's blocks coloured frozen, trained and new head, the compute per stage with a time
estimate per engine (once \`tlr doctor --calibrate\` has measured this machine), and where results go.`,
    options: () => ({
      html: {
        type: 'boolean',
        help: 'a self-contained HTML page with the same content instead (redirect it to a file)',
      },
      'stdin-filename': common.stdinFilename,
    }),
    operands: 'recipes',
    run: (p, v, io) => explainCommand(p, { html: !!v['html'], stdinFilename: str(v['stdin-filename']) }, io),
  },
  {
    name: 'lsp',
    summary: 'the language server for editors (over stdio)',
    usage: ['[--stdio]'],
    about: `The language server for editors, over stdin and stdout (JSON-RPC, the Language Server Protocol):
diagnostics as you type (the same as tlr check, data folders included), hover on clause words,
networks, blocks and layers and data folders, completion from the zoo and the clause table, quick
fixes from the diagnostics' hints, formatting (tlr fmt's), inlay hints with each stage's trained
and frozen parameters, the stages as symbols and folding ranges. docs/editors.md sets up editors.`,
    options: () => ({
      stdio: { type: 'boolean', help: 'talk over stdin and stdout (the only transport; editors pass it)' },
    }),
    operands: 'none',
    run: (p, v, io) => lspCommand(p, v, io),
  },
  {
    name: 'models',
    summary: "list the model zoo, or one network's blocks and layers",
    usage: ['[NAME] [--width W] [--input N] [--json]'],
    about: `Without NAME: the zoo, one network a line. With NAME: its blocks and every layer, numbered;
the names and blocks are what freeze and unfreeze accept.`,
    options: () => ({
      width: { type: 'string', value: 'W', help: "a MobileNet's width (its layers' channels)" },
      input: { type: 'string', value: 'N', help: "the input size in pixels (the layers' shapes)" },
      json: common.json('the zoo or the network as data'),
    }),
    operands: 'models',
    run: (p, v, io) => modelsCommand(p, { width: str(v['width']), input: str(v['input']), json: !!v['json'] }, io),
  },
  {
    name: 'fetch',
    summary: 'download what recipes need now (their weights), for going offline',
    usage: ['FILE...'],
    about: `Gets everything the recipes need from the network now: their weights, downloaded into the cache
(checked, and pinned in tlr.lock beside the recipe), so that later runs work offline. Recipes whose
weights are cached, in $TLR_WEIGHTS_DIR, local files or none say so.`,
    options: () => ({}),
    operands: 'recipes',
    run: async (p, v, io) => (await import('../commands/fetch.js')).fetchCommand(p, v, io),
  },
  {
    name: 'pack',
    summary: 'a folder of class folders as tar shards (--out SHARDS; --index SHARDS)',
    usage: ['DATA --out SHARDS [--shard-size N] [--force]', '--index SHARDS'],
    about: `Writes a folder of class folders as WebDataset-style tar shards (000000.tar, …: KEY.jpg or
KEY.png beside KEY.cls, the class index), with classes.txt and tlr's index of them
(tlr-shards.json). A recipe then says \`train … on ./shards\`: a few large files instead of many
small ones, which shared file systems serve far better. The shards keep the folder's order, so
they split exactly as the folder does. The folder is written whole or not at all.`,
    options: () => ({
      out: {
        type: 'string',
        value: 'DIR',
        help: "the shards' folder (new, empty, or shards tlr wrote)",
        complete: 'dir',
      },
      'shard-size': { type: 'string', value: 'N', help: 'images per shard (default 1000)' },
      force: { type: 'boolean', help: 'replace shards tlr wrote before' },
      index: {
        type: 'string',
        value: 'SHARDS',
        help: 'index shards made elsewhere (reads each once; classes from classes.txt)',
        complete: 'dir',
      },
    }),
    operands: 'dirs',
    run: async (p, v, io) =>
      (await import('../commands/pack.js')).packCommand(
        p,
        { out: str(v['out']), shardSize: str(v['shard-size']), force: !!v['force'], index: str(v['index']) },
        io,
      ),
  },
];
