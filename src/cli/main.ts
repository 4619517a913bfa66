import { parseArgs } from 'node:util';
import { checkCommand, CHECK_HELP } from './commands/check.js';
import { planCommand, PLAN_HELP } from './commands/plan.js';
import { fmtCommand, FMT_HELP } from './commands/fmt.js';
import { diffCommand, DIFF_HELP } from './commands/diff.js';
import { explainCommand, EXPLAIN_HELP } from './commands/explain.js';
import { lspCommand, LSP_HELP } from './commands/lsp.js';
import { modelsCommand, MODELS_HELP } from './commands/models.js';
import {
  COMPARE_HELP,
  DOCTOR_HELP,
  EVAL_HELP,
  EXPORT_HELP,
  FETCH_HELP,
  LR_FIND_HELP,
  PACK_HELP,
  PREDICT_HELP,
  REPORT_HELP,
  RUN_HELP,
  WATCH_HELP,
} from './help.js';
import { stdio, UsageError, type Output } from './io.js';
import { TLR_VERSION } from '../version.js';
import { TlrError } from '../errors.js';
import { printable } from '../printable.js';
import { engineFlags, recipeExports, type FlagValues } from '../engines/index.js';

const HELP = `tlr — transfer learning recipes

usage: tlr COMMAND [options]

commands:
  check FILE...    check recipes (files, folders, -); --format text|json|github|sarif
  plan FILE        show what a run would do (--json: the plan itself)
  fmt FILE         print the canonical layout (--write, --check)
  diff OLD NEW     what a change to a recipe means (files or REV:PATH; --git BASE [HEAD]; --md, --json)
  explain FILE     the recipe as a document: Markdown with Mermaid diagrams (--html: a page)
  lsp              the language server for editors (over stdio)
  models [NAME]    list the model zoo, or one network's blocks and layers
  fetch FILE...    download what recipes need now (their weights), for going offline
  pack DATA        a folder of class folders as tar shards (--out SHARDS; --index SHARDS)
  run FILE         run a recipe (--json: NDJSON events; --resume RUN_DIR; --watch)
  watch FILE       run, then re-plan and re-run on every save
  lr-find FILE     the learning-rate range test on a stage; --write puts the suggestion in the recipe
  predict DIR IMG  top labels of images with a saved model
  eval DIR DATA    evaluate a saved model on a data set
  export DIR       a saved model as ONNX (--format onnx) or TF.js (--format tfjs)
  doctor           backends, cache and versions
  compare RUN...   a table of runs (or recipes, run first); --by dataset
  report RUN_DIR   write the run's report.html

\`tlr COMMAND --help\` tells more. Docs: README.md`;

type Spec = {
  help: string;
  options: Record<string, { type: 'boolean' | 'string' }>;
  run: (pos: string[], v: Record<string, unknown>, io: Output) => number | Promise<number>;
};
const str = (v: unknown) => v as string | undefined;

// The commands that run models load on use: TensorFlow.js is not loaded for check, plan, fmt, models.
const runCmd = () => import('./commands/run.js');
const watchCmd = () => import('./commands/watch.js');
const compareCmd = () => import('./commands/compare.js');
const doctorCmd = () => import('./commands/doctor.js');
const predictCmd = () => import('./commands/predict.js');
const exportCmd = () => import('./commands/export.js');
const fetchCmd = () => import('./commands/fetch.js');
const lrFindCmd = () => import('./commands/lr-find.js');
const packCmd = () => import('./commands/pack.js');

type Options = Spec['options'];

/** The engines' run flags (--backend, --nproc, …), from the engine table. */
const engineOptions = (): Options =>
  Object.fromEntries([...engineFlags()].map(([name, f]) => [name, { type: f.flag.type }]));
const engineValues = (v: Record<string, unknown>): FlagValues =>
  Object.fromEntries([...engineFlags().keys()].map((n) => [n, v[n] as string | boolean | undefined]));
/** Each recipe export's flag and the flags that go with it (--torchrun DIR --nproc N). */
const exportOptions = (): Options =>
  Object.fromEntries(
    recipeExports().flatMap((x) => [
      [x.flag, { type: 'string' as const }],
      ...Object.entries(x.flags).map(([n, f]) => [n, { type: f.type }]),
    ]),
  );

const watchRun = async (p: string[], v: Record<string, unknown>, io: Output) =>
  (await watchCmd()).watchCommand(p, { json: !!v['json'], engine: str(v['engine']), engineFlags: engineValues(v) }, io);

const COMMANDS: Record<string, Spec> = {
  check: {
    help: CHECK_HELP,
    options: {
      json: { type: 'boolean' },
      format: { type: 'string' },
      deep: { type: 'boolean' },
      'stdin-filename': { type: 'string' },
    },
    run: (p, v, io) =>
      checkCommand(
        p,
        { json: !!v['json'], format: str(v['format']), deep: !!v['deep'], stdinFilename: str(v['stdin-filename']) },
        io,
      ),
  },
  plan: {
    help: PLAN_HELP,
    options: { json: { type: 'boolean' }, textconv: { type: 'boolean' }, 'stdin-filename': { type: 'string' } },
    run: (p, v, io) =>
      planCommand(p, { json: !!v['json'], textconv: !!v['textconv'], stdinFilename: str(v['stdin-filename']) }, io),
  },
  fmt: {
    help: FMT_HELP,
    options: { write: { type: 'boolean' }, check: { type: 'boolean' }, 'stdin-filename': { type: 'string' } },
    run: (p, v, io) =>
      fmtCommand(p, { write: !!v['write'], check: !!v['check'], stdinFilename: str(v['stdin-filename']) }, io),
  },
  diff: {
    help: DIFF_HELP,
    options: { git: { type: 'boolean' }, md: { type: 'boolean' }, json: { type: 'boolean' } },
    run: (p, v, io) => diffCommand(p, { git: !!v['git'], md: !!v['md'], json: !!v['json'] }, io),
  },
  explain: {
    help: EXPLAIN_HELP,
    options: { html: { type: 'boolean' }, 'stdin-filename': { type: 'string' } },
    run: (p, v, io) => explainCommand(p, { html: !!v['html'], stdinFilename: str(v['stdin-filename']) }, io),
  },
  lsp: {
    help: LSP_HELP,
    options: { stdio: { type: 'boolean' } },
    run: (p, v, io) => lspCommand(p, v, io),
  },
  models: {
    help: MODELS_HELP,
    options: { width: { type: 'string' }, input: { type: 'string' }, json: { type: 'boolean' } },
    run: (p, v, io) => modelsCommand(p, { width: str(v['width']), input: str(v['input']), json: !!v['json'] }, io),
  },
  run: {
    help: RUN_HELP,
    get options() {
      return {
        json: { type: 'boolean' },
        resume: { type: 'string' },
        watch: { type: 'boolean' },
        engine: { type: 'string' },
        ...engineOptions(),
      } as Options;
    },
    run: async (p, v, io) =>
      v['watch']
        ? watchRun(p, v, io)
        : (await runCmd()).runCommand(
            p,
            { json: !!v['json'], resume: str(v['resume']), engine: str(v['engine']), engineFlags: engineValues(v) },
            io,
          ),
  },
  compare: {
    help: COMPARE_HELP,
    options: { by: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } },
    run: async (p, v, io) =>
      (await compareCmd()).compareCommand(p, { by: str(v['by']), out: str(v['out']), json: !!v['json'] }, io),
  },
  report: { help: REPORT_HELP, options: {}, run: async (p, v, io) => (await compareCmd()).reportCommand(p, v, io) },
  watch: {
    help: WATCH_HELP,
    get options() {
      return { json: { type: 'boolean' }, engine: { type: 'string' }, ...engineOptions() } as Options;
    },
    run: watchRun,
  },
  doctor: {
    help: DOCTOR_HELP,
    options: { calibrate: { type: 'boolean' } },
    run: async (p, v, io) => (await doctorCmd()).doctorCommand(p, { calibrate: !!v['calibrate'] }, io),
  },
  predict: {
    help: PREDICT_HELP,
    options: {
      top: { type: 'string' },
      json: { type: 'boolean' },
      csv: { type: 'boolean' },
      backend: { type: 'string' },
    },
    run: async (p, v, io) =>
      (await predictCmd()).predictCommand(
        p,
        { top: str(v['top']), json: !!v['json'], csv: !!v['csv'], backend: str(v['backend']) },
        io,
      ),
  },
  pack: {
    help: PACK_HELP,
    options: {
      out: { type: 'string' },
      'shard-size': { type: 'string' },
      force: { type: 'boolean' },
      index: { type: 'string' },
    },
    run: async (p, v, io) =>
      (await packCmd()).packCommand(
        p,
        { out: str(v['out']), shardSize: str(v['shard-size']), force: !!v['force'], index: str(v['index']) },
        io,
      ),
  },
  fetch: { help: FETCH_HELP, options: {}, run: async (p, v, io) => (await fetchCmd()).fetchCommand(p, v, io) },
  export: {
    help: EXPORT_HELP,
    get options() {
      return {
        format: { type: 'string' },
        out: { type: 'string' },
        softmax: { type: 'boolean' },
        force: { type: 'boolean' },
        ...exportOptions(),
      } as Options;
    },
    run: async (p, v, io) =>
      (await exportCmd()).exportCommand(
        p,
        {
          format: str(v['format']),
          out: str(v['out']),
          softmax: !!v['softmax'],
          force: !!v['force'],
          values: v as FlagValues,
        },
        io,
      ),
  },
  'lr-find': {
    help: LR_FIND_HELP,
    options: {
      stage: { type: 'string' },
      write: { type: 'boolean' },
      json: { type: 'boolean' },
      steps: { type: 'string' },
    },
    run: async (p, v, io) =>
      (await lrFindCmd()).lrFindCommand(
        p,
        { stage: str(v['stage']), write: !!v['write'], json: !!v['json'], steps: str(v['steps']) },
        io,
      ),
  },
  eval: {
    help: EVAL_HELP,
    options: { json: { type: 'boolean' }, backend: { type: 'string' } },
    run: async (p, v, io) => (await predictCmd()).evalCommand(p, { json: !!v['json'], backend: str(v['backend']) }, io),
  },
};

/** Runs one command; returns its exit status (a promise for the commands that run models). */
export function main(argv: string[], io: Output = stdio): number | Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(HELP);
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V') {
    io.out(`tlr ${TLR_VERSION}`);
    return 0;
  }
  const cmd = COMMANDS[name];
  try {
    if (!cmd) throw new UsageError(`unknown command ${name}; commands: ${Object.keys(COMMANDS).join(', ')}`);
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({
        args: rest,
        options: { ...cmd.options, help: { type: 'boolean', short: 'h' } },
        allowPositionals: true,
        strict: true,
      });
    } catch (e) {
      const message = (e as Error).message.replace(/\. To specify.*$/s, '');
      throw Object.assign(new UsageError(message), { help: cmd.help });
    }
    if (parsed.values['help']) {
      io.out(cmd.help);
      return 0;
    }
    const r = cmd.run(parsed.positionals, parsed.values, io);
    return typeof r === 'number' ? r : r.catch((e: unknown) => failure(e, io));
  } catch (e) {
    return failure(e, io);
  }
}

function failure(e: unknown, io: Output): number {
  // Errors tlr expects (src/errors.ts) carry their message and exit status; anything else is a bug.
  if (e instanceof TlrError) {
    // A message can name a file or a class: escaped, as everything tlr prints from outside (a newline in a name
    // cannot start a line of its own). The command's usage, tlr's own text, follows as it is.
    const help = (e as TlrError & { help?: string }).help;
    io.err(`tlr: ${printable(e.message)}${help ? `\n\n${help}` : ''}`);
    return e.exitCode;
  }
  io.err(
    `tlr: internal error: ${(e as Error).message}\nThis is a bug in tlr; please report it with what you ` +
      `ran.${process.env['TLR_DEBUG'] ? `\n${(e as Error).stack}` : ''}`,
  );
  return 1;
}
