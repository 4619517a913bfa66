import * as fs from 'node:fs';
import type * as G from './generated/contracts.js';
import type { ReadOnly } from './plan.js';
import { CONTRACT_SCHEMAS, contractErrors, type ContractKind } from './validate.js';
import { TlrError } from '../errors.js';

// The one reader of the files tlr's runs write (plan.json, report.json, metrics.jsonl, job.json, a model folder's
// files, …): each is parsed and validated against its schema before any code sees it, so a damaged or hand-edited
// file is an error that names the file, the line or field, and what to do, never a crash further on.

/** Each contract's type as the code holds it (generated from its schema, read-only). */
export interface Contracts {
  readonly plan: ReadOnly<G.Plan>;
  readonly event: ReadOnly<G.TlrEvent>;
  readonly report: ReadOnly<G.Report>;
  readonly metrics: ReadOnly<G.MetricsRow>;
  readonly environment: ReadOnly<G.Environment>;
  readonly engine: ReadOnly<G.EngineRecord>;
  readonly sweep: ReadOnly<G.SweepRecord>;
  readonly manifest: ReadOnly<G.Manifest>;
  readonly job: ReadOnly<G.TorchJob>;
  readonly network: ReadOnly<G.TorchNetwork>;
  readonly labels: ReadOnly<G.Labels>;
  readonly preprocessing: ReadOnly<G.Preprocessing>;
  readonly modelMarker: ReadOnly<G.ModelMarker>;
  readonly tfjsModel: ReadOnly<G.TfjsModelJson>;
  readonly checkpointState: ReadOnly<G.CheckpointState>;
  readonly nodes: ReadOnly<G.NodesRecord>;
  readonly optimizerState: ReadOnly<G.OptimizerState>;
  readonly int8: ReadOnly<G.Int8Record>;
}

/** A file tlr wrote that cannot be read back: unreadable, not JSON, or not valid against its schema. */
export class ContractFileError extends TlrError {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}

const MOST_SHOWN = 5;

/** What to do about a file of `kind` that is wrong: a run's files come from tlr, so it was damaged or edited. */
const advice = (kind: ContractKind) =>
  kind === 'plan' || kind === 'job' || kind === 'manifest'
    ? 'it is not as tlr wrote it; run the recipe again (tlr run RECIPE) rather than editing it'
    : 'it is not as tlr wrote it (cut short, edited, or from a newer tlr); restore it, or run the recipe again';

function parse(kind: ContractKind, file: string, text: string, line?: number): unknown {
  const where = line === undefined ? file : `${file}:${line}`;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ContractFileError(file, `${where} is damaged: not JSON (${(e as Error).message}); ${advice(kind)}`);
  }
}

function check<K extends ContractKind>(kind: K, file: string, value: unknown, line?: number): Contracts[K] {
  const errors = contractErrors(kind, value);
  if (!errors.length) return value as Contracts[K];
  const where = line === undefined ? file : `${file}:${line}`;
  const shown = errors.slice(0, MOST_SHOWN).join('; ') + (errors.length > MOST_SHOWN ? '; …' : '');
  throw new ContractFileError(
    file,
    `${where} is damaged: not a valid ${kind} file (schema/${CONTRACT_SCHEMAS[kind]}): ${shown}; ${advice(kind)}`,
  );
}

function readText(kind: ContractKind, file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ContractFileError(
      file,
      code === 'ENOENT'
        ? `${file} does not exist; ${advice(kind)}`
        : `${file} cannot be read (${code ?? (e as Error).message}); check its permissions`,
    );
  }
}

/** A JSON file of `kind`, parsed and validated; a ContractFileError names what is wrong. */
export const readContract = <K extends ContractKind>(kind: K, file: string): Contracts[K] =>
  check(kind, file, parse(kind, file, readText(kind, file)));

/** A value of `kind` (an event from a stream, a file already read), validated; `line` for messages. */
export const checkContract = <K extends ContractKind>(kind: K, file: string, value: unknown, line?: number) =>
  check(kind, file, value, line);

/**
 * A JSON Lines file of `kind` (metrics.jsonl): one value a line, blank lines skipped. `lastMayBeCut`: a process
 * killed mid-write leaves half a last line, which is left out rather than refused.
 */
export function readContractLines<K extends ContractKind>(
  kind: K,
  file: string,
  opts: { lastMayBeCut?: boolean } = {},
): Contracts[K][] {
  const lines = readText(kind, file).split('\n');
  const out: Contracts[K][] = [];
  lines.forEach((l, i) => {
    if (!l.trim()) return;
    const last = lines.slice(i + 1).every((x) => !x.trim());
    let value: unknown;
    try {
      value = parse(kind, file, l, i + 1);
    } catch (e) {
      if (last && opts.lastMayBeCut) return;
      throw e;
    }
    out.push(check(kind, file, value, i + 1));
  });
  return out;
}

/** The files of a run folder (and of its model folder and checkpoint) that hold a contract, by their path in it. */
export const RUN_FOLDER_FILES: Readonly<Record<string, ContractKind>> = {
  'plan.json': 'plan',
  'report.json': 'report',
  'metrics.jsonl': 'metrics',
  'environment.json': 'environment',
  'engine.json': 'engine',
  'manifest.json': 'manifest',
  'job.json': 'job',
  'nodes.json': 'nodes',
  'sweep.json': 'sweep',
  'checkpoint/state.json': 'checkpointState',
  'checkpoint/optimizer.json': 'optimizerState',
  'model/labels.json': 'labels',
  'model/preprocessing.json': 'preprocessing',
  'model/network.json': 'network',
  'model/.tlr-model': 'modelMarker',
  'model/model.json': 'tfjsModel',
  'model/int8.json': 'int8',
};

/** A model folder's files, wherever a model folder is in a run (model/, checkpoint/model/, checkpoint/stage-best/). */
const MODEL_FOLDER_FILES: Readonly<Record<string, ContractKind>> = {
  'model.json': 'tfjsModel',
  'labels.json': 'labels',
  'preprocessing.json': 'preprocessing',
  'network.json': 'network',
  '.tlr-model': 'modelMarker',
  'int8.json': 'int8',
};

/** The contract a run folder's file holds, by its path in the folder; null for a file that holds none. */
const kindAt = (at: string): ContractKind | null =>
  RUN_FOLDER_FILES[at] ?? (at.includes('/') ? (MODEL_FOLDER_FILES[at.split('/').pop()!] ?? null) : null);

/**
 * What is wrong with the contract files of a run folder (or a job or sweep folder): every file that holds a contract,
 * read through the reader, and any other JSON file, which would be a file without a schema. The engine's own Python
 * package in a job folder is not the run's.
 */
export function runFolderProblems(dir: string): string[] {
  const problems: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(`${dir}/${rel}`, { withFileTypes: true })) {
      const at = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory() && !['tlr_torch', '__pycache__'].includes(e.name)) walk(at);
      if (!e.isFile()) continue;
      const kind = kindAt(at);
      if (!kind) {
        if (/\.jsonl?$/.test(e.name)) problems.push(`${at}: a JSON file with no schema in RUN_FOLDER_FILES`);
        continue;
      }
      try {
        if (kind === 'metrics') readContractLines(kind, `${dir}/${at}`);
        else readContract(kind, `${dir}/${at}`);
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
  };
  walk('');
  return problems;
}
