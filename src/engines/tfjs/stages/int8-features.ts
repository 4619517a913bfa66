import onnxProto from 'onnx-proto';
import type { Plan } from '../../../contracts/plan.js';
import type { Item } from '../../../runtime/images/dataset.js';
import { collect, hasVnni, quantizeCalibrated, spread } from '../int8.js';
import { loadOrt, OrtError } from '../onnx/runtime.js';
import { toOnnx } from '../onnx/to-onnx.js';
import type { CalibrationBatch } from '../onnx/calibrate.js';
import type { Program } from '../infer/program.js';
import { ImageSource } from '../train/batch-sources.js';
import { featureKey } from '../train/features.js';
import { RunError } from '../../../runtime/run-folder.js';

// `features int8`: the passes that compute a frozen part's output once and cache it run that part's int8 network,
// made as `tlr export --int8` makes one (QDQ, per-channel weights, Percentile ranges) and calibrated on the same
// training images. The cached features then differ from float ones, so the recipe asks for it and the cache key says
// it: the calibration images and method, the quantizer, and whether weights took 7 bits on this CPU.

const { onnx } = onnxProto;

// How int8 features are made; a change here is a new cache key (2: channel means computed in the graph,
// in float32).
export const INT8_FEATURES = 'tlr-int8-features/2';

export type Int8Features = NonNullable<Plan['features']>;

/** The training images calibrated on: the plan's count, spread evenly over the training part. */
export const calibrationItems = (f: Int8Features, train: readonly Item[]): Item[] =>
  spread(train, f.calibration.images);

/** What int8 adds to a feature cache key: its version, the weights' bits here, the calibration's method and images. */
export const int8KeyPart = (f: Int8Features, calibration: readonly Item[]) => ({
  int8: INT8_FEATURES,
  reduceRange: !hasVnni(),
  calibration: featureKey(f.calibration, calibration),
});

/** Preprocessed calibration batches (unreadable images are left out: the training pass reports them). */
async function* batchesOf(items: readonly Item[], size: number, pre: ImageSource['pre']) {
  const src = new ImageSource(items, size, pre, [], () => undefined);
  for await (const b of src.batches(8, false, 0)) {
    const data = (b.x.dataSync() as Float32Array).slice();
    b.x.dispose();
    yield { data, shape: [b.y.length, size, size, 3] } satisfies CalibrationBatch;
  }
}

/** `program` (a backbone, or a fine-tune's frozen prefix) as an int8 ONNX network calibrated on `items`. */
export async function int8Network(
  program: Program,
  items: readonly Item[],
  opts: { readonly inputSize: number; readonly pre: ImageSource['pre']; readonly threads: number },
): Promise<Uint8Array> {
  const r = loadOrt();
  if (!('ort' in r)) throw new OrtError(`\`features int8\` runs on ONNX Runtime, and ${r.error}`);
  const batches = await collect(batchesOf(items, opts.inputSize, opts.pre));
  if (!batches.length)
    throw new RunError('`features int8` found no readable training image to calibrate on: fix the data, or remove it');
  const proto = onnx.ModelProto.decode(toOnnx(program));
  return (await quantizeCalibrated(r.ort, proto, batches, opts.threads)).int8;
}
