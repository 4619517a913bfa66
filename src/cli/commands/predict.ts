import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from '../../runtime/tf.js';
import { chooseBackend } from '../../runtime/backend.js';
import { loadModelDir, ModelDirError } from '../../runtime/results/model-files.js';
import { decodeRgb, ImageError, normalize } from '../../runtime/data/image.js';
import { probeData } from '../../data/formats/index.js';
import { listItems } from '../../runtime/data/dataset.js';
import { ImageSource } from '../../runtime/train/sources.js';
import { evaluate } from '../../runtime/train/loop.js';
import { inferenceWorkers, modelForward, passWorkers, startEngine } from '../../runtime/infer/engine.js';
import { savedProgram } from '../../runtime/infer/saved.js';
import type { Program } from '../../runtime/infer/program.js';
import { evaluation } from '../../runtime/train/metrics.js';
import { evaluationText } from '../../ui/evaluation-text.js';
import { UsageError, type Output } from '../io.js';
import type { DataFormat } from '../../plan/types.js';



async function load(dir: string, backend?: string) {
  const name = await chooseBackend(backend);
  try {
    return { ...(await loadModelDir(dir)), backend: name };
  } catch (e) {
    if (e instanceof ModelDirError) throw new UsageError(e.message);
    throw e;
  }
}

export async function predictCommand(args: readonly string[], flags: { top?: string; json: boolean; backend?: string }, io: Output): Promise<number> {
  const [dir, ...images] = args;
  if (!dir || !images.length) throw new UsageError('tlr predict needs a model folder and at least one image');
  const k = flags.top === undefined ? 3 : Number(flags.top);
  if (!Number.isInteger(k) || k < 1) throw new UsageError(`--top takes a whole number of at least 1, not ${flags.top}`);
  const { model, meta } = await load(dir, flags.backend);
  const size = meta.preprocessing.inputSize;
  const results: { image: string; top: { label: string; probability: number }[] }[] = [];
  let failed = 0;
  for (const image of images) {
    if (!fs.existsSync(image)) { io.err(`tlr: ${image} does not exist`); failed++; continue; }
    let rgb: Uint8Array;
    try {
      rgb = await decodeRgb(image, size);
    } catch (e) {
      io.err(`tlr: ${e instanceof ImageError ? e.message : String(e)}`);
      failed++;
      continue;
    }
    const probs = tf.tidy(() => {
      const out = model.predict(tf.tensor4d(normalize(rgb, meta.preprocessing), [1, size, size, 3])) as tf.Tensor;
      return meta.output === 'logits' ? tf.softmax(out) : out;
    });
    const p = Array.from(await probs.data());
    probs.dispose();
    const top = p.map((v, i) => ({ label: meta.labels[i]!, probability: v })).sort((a, b) => b.probability - a.probability).slice(0, k);
    results.push({ image, top });
  }
  model.dispose();
  if (flags.json) io.out(JSON.stringify(results, null, 2));
  else for (const r of results) io.out(`${r.image}: ${r.top.map((t) => `${t.label} ${(t.probability * 100).toFixed(1)}%`).join(', ')}`);
  return failed ? 1 : 0;
}

export async function evalCommand(args: readonly string[], flags: { json: boolean; backend?: string }, io: Output): Promise<number> {
  const [dir, data] = args;
  if (!dir || !data || args.length > 2) throw new UsageError('tlr eval needs a model folder and a data set');
  const probe = probeData(path.resolve(data));
  if (!probe.ok) throw new UsageError(probe.message);
  const { model, meta, backend } = await load(dir, flags.backend);
  const info = probe.info;
  const part = info.splits.test ? 'test' : info.splits.validation ? 'validation' : 'train';
  const found = info.splits[part]!.map((c) => c.name);
  const unknown = found.filter((c) => !meta.labels.includes(c));
  if (unknown.length) throw new UsageError(`${data} has classes the model does not know: ${unknown.join(', ')} (it knows ${meta.labels.join(', ')})`);
  const items = listItems({ kind: 'data', path: info.path, format: info.format as DataFormat, part }, meta.labels);
  let unreadable = 0;
  const src = new ImageSource(items, meta.preprocessing.inputSize, meta.preprocessing, [], (it, reason) => { unreadable++; io.err(`warning: skipped an unreadable image: ${reason}`); void it; });
  // The compiled program, in worker threads for a long pass; a model tlr did not shape runs as it is.
  let program: Program | null = null;
  try { program = savedProgram(model, meta); } catch { program = null; }
  const batch = 32;
  const engine = program ? await startEngine(program, passWorkers(inferenceWorkers(backend), items.length, batch), backend) : null;
  let r;
  try {
    r = await evaluate(engine ?? modelForward(model), src, meta.labels.length, meta.output === 'probabilities', batch);
  } finally {
    await engine?.close();
    model.dispose();
  }
  const ev = evaluation('test', meta.labels, r.y, r.pred, r.loss);
  io.out(flags.json ? JSON.stringify({ data: info.path, part, unreadable, evaluation: ev }, null, 2) : `${data} (${part})\n${evaluationText(ev)}`);
  return 0;
}
