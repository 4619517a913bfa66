import * as path from 'node:path';
import type { Plan } from '../../contracts/plan.js';
import { describe, family, graphOf } from '../../zoo/catalog.js';
import { ancestors } from '../../zoo/graph.js';
import { listSplits, type Item } from '../../runtime/images/dataset.js';
import { resolveWeights, type ResolvedFiles } from '../../runtime/weights/resolve.js';
import { readTfjsModel } from '../../runtime/weights/tfjs-format.js';
import { toTorchvision } from '../../runtime/weights/torchvision.js';
import { writeSafetensors } from '../../runtime/weights/safetensors.js';
import type { Progress } from '../../runtime/weights/download.js';
import { AtomicWriter, writeFileAtomic } from '../../files/atomic.js';
import { TLR_VERSION } from '../../version.js';
import { TlrError } from '../../errors.js';
import { fromGraph, torchUnsupported } from './networks.js';

export { TORCH_NETWORKS, torchUnsupported } from './networks.js';

// What the PyTorch engine (python/tlr_torch) reads beside plan.json: manifest.json (every image of
// every split, so both engines train, validate and test on the very same images) and job.json
// (the zoo's layer order, which `freeze` counts, and the starting weights as a torchvision-named
// safetensors file).

export const JOB_FORMAT = 'tlr-torch-job';
export const JOB_VERSION = 1;
export const MANIFEST_FORMAT = 'tlr-manifest';
export const MANIFEST_VERSION = 1;

/** A plan the torch engine cannot run. */
export class TorchJobError extends TlrError {}

/**
 * A manifest row: [path, class] for a file, [IDX file, class, index] for an image inside one, [shard, class, offset,
 * size, member] for an image in a tar shard. Paths inside the data root are relative to it.
 */
type Row = [string, number] | [string, number, number] | [string, number, number, number, string];

function row(it: Item, root: string): Row {
  const p = it.kind === 'file' ? it.path : it.kind === 'idx' ? it.images.file : it.shard;
  const rel = path.relative(root, p);
  const shown = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : p;
  if (it.kind === 'file') return [shown, it.label];
  return it.kind === 'idx' ? [shown, it.label, it.index] : [shown, it.label, it.offset, it.size, it.name];
}

/**
 * Writes the plan's splits as manifest.json, streaming: a run of a million images never holds the whole file as one
 * string (rows go out 10,000 at a time; the bytes are JSON.stringify's). Files tlr will never open (FIFOs, links out of
 * the data) are left out and returned.
 */
export function writeManifest(plan: Plan, file: string): { file: string; reason: string }[] {
  const splits = listSplits(plan),
    root = plan.data.root;
  const skipped: { file: string; reason: string }[] = [];
  // Multi-label: a row's label is its label set's index in labelSets (runtime/images/dataset.ts).
  const head = {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    root,
    classes: plan.data.classes,
    ...(splits.labelSets ? { labelSets: splits.labelSets } : {}),
  };
  const w = new AtomicWriter(file);
  try {
    w.write(`${JSON.stringify(head).slice(0, -1)},"splits":{`);
    (['train', 'validation', 'test'] as const).forEach((split, s) => {
      w.write(`${s ? ',' : ''}"${split}":[`);
      let chunk: string[] = [],
        first = true;
      const flush = () => {
        if (chunk.length) w.write((first ? '' : ',') + chunk.join(','));
        if (chunk.length) first = false;
        chunk = [];
      };
      for (const it of splits[split]) {
        if (it.kind === 'file' && it.problem) skipped.push({ file: it.path, reason: it.problem });
        else chunk.push(JSON.stringify(row(it, root)));
        if (chunk.length === 10_000) flush();
      }
      flush();
      w.write(']');
    });
    w.write('}}\n');
  } catch (e) {
    w.abort();
    throw e;
  }
  w.commit();
  return skipped;
}

/**
 * The starting weights as the torch engine reads them: torchvision-named safetensors; tfjs files and tlr model folders
 * are converted into `dir`.
 */
function torchWeights(
  plan: Plan,
  files: ResolvedFiles,
  dir: string,
): { path: string; sha256: string; from: string; converted: boolean } {
  if (files.format === 'safetensors' || files.entry.endsWith('.safetensors'))
    return { path: files.entry, sha256: files.sha256, from: files.from, converted: false };
  const f = family(plan.model.name)!;
  const graph = graphOf(plan.model.name, describe(plan.model.name, plan.model.width, null).width, f.inputSize);
  const keras = readTfjsModel(files.entry).weights;
  // A tlr model's old head goes: the plan has its own.
  for (const k of [...keras.keys()]) if (k.startsWith('head.')) keras.delete(k);
  const out = path.join(dir, 'weights.safetensors');
  writeFileAtomic(out, writeSafetensors(toTorchvision(keras, graph)));
  return {
    path: 'weights.safetensors',
    sha256: files.sha256,
    from: `${files.entry} (converted to torchvision names)`,
    converted: true,
  };
}

/**
 * The zoo's graph up to the feature layer, as plain data (node names, ops, inputs, [h, w, c] shapes), for the networks
 * the torch engine builds from it rather than from torchvision (python/tlr_torch/graph.py).
 */
export function graphForTorch(name: string, width: number | null, inputSize: number): object | undefined {
  if (!fromGraph(name)) return undefined;
  const info = describe(name, width, inputSize);
  const graph = graphOf(name, info.width, info.inputSize);
  const nodes = ancestors(graph, info.featureLayer).filter((n) => n.op.kind !== 'input');
  return {
    input: graph.input,
    inputShape: [info.inputSize, info.inputSize, 3],
    output: info.featureLayer,
    nodes: nodes.map((n) => ({ name: n.name, op: n.op, inputs: n.inputs, shape: n.shape })),
  };
}

export interface TorchJobOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly onProgress?: (p: Progress) => void;
  readonly device: 'cpu' | 'cuda';
  readonly nproc: number;
}

/**
 * Writes manifest.json and job.json (and weights.safetensors when the weights need converting)
 * into `dir`, resolving the weights (downloaded when needed) as a tfjs run would.
 */
export async function writeTorchJob(
  plan: Plan,
  dir: string,
  opts: TorchJobOptions,
): Promise<{ weights: ResolvedFiles | null; skipped: { file: string; reason: string }[] }> {
  const why = torchUnsupported(plan);
  if (why) throw new TorchJobError(why);
  const info = describe(plan.model.name, plan.model.width, plan.model.inputSize);
  const files = await resolveWeights(plan.model.weights, {
    env: opts.env,
    lockDir: path.dirname(plan.recipe.file),
    onProgress: opts.onProgress,
    what: `the ImageNet weights of ${plan.model.name}`,
  });
  const skipped = writeManifest(plan, path.join(dir, 'manifest.json'));
  const weights = files ? torchWeights(plan, files, dir) : null;
  writeFileAtomic(
    path.join(dir, 'job.json'),
    `${JSON.stringify(
      {
        format: JOB_FORMAT,
        version: JOB_VERSION,
        tlr: TLR_VERSION,
        network: {
          name: plan.model.name,
          inputSize: plan.model.inputSize,
          featureLayer: info.featureLayer,
          layers: info.layers.map((l) => l.name),
          graph: graphForTorch(plan.model.name, plan.model.width, plan.model.inputSize),
        },
        weights,
        device: opts.device,
        nproc: opts.nproc,
      },
      null,
      2,
    )}\n`,
  );
  return { weights: files, skipped };
}
