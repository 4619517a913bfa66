import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../../src/engines/tfjs/tf.js';
import { buildModel, loadZooModel } from '../../../../src/engines/tfjs/tf-layers/model.js';
import { decodeRgb, normalize } from '../../../../src/runtime/images/image.js';
import { describe as catalog } from '../../../../src/zoo/catalog.js';
import { useBackend } from '../../../helpers/backend.js';
import { hasShared, SHARED, SKIP_SHARED } from '../../../helpers/shared.js';
import { createRequire } from 'node:module';

const CLASSES = createRequire(import.meta.url)('../../../../src/zoo/imagenet-classes.json') as string[];
const W = path.join(SHARED, 'weights');
const env = { ...process.env, TLR_WEIGHTS_DIR: W, TLR_CACHE: '/nonexistent/tlr-cache' };

/** The shared model loaded whole, by TF.js itself, from its model.json and shards. */
async function loadWhole(dir: string): Promise<tf.LayersModel> {
  const json = JSON.parse(fs.readFileSync(path.join(W, dir, 'model.json'), 'utf8'));
  const specs = json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights);
  const shards = json.weightsManifest
    .flatMap((g: { paths: string[] }) => g.paths)
    .map((p: string) => fs.readFileSync(path.join(W, dir, p)));
  const data = Buffer.concat(shards);
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: specs,
      weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
    }),
  );
}

const input = (seed: number) => tf.tidy(() => tf.randomUniform([2, 224, 224, 3], -1, 1, 'float32', seed));
const maxDiff = async (a: tf.Tensor, b: tf.Tensor) => (await tf.max(tf.abs(tf.sub(a, b))).data())[0]!;

beforeAll(() => useBackend());

describe.skipIf(!hasShared)(
  `zoo MobileNets with the ImageNet weights in ../shared (${hasShared ? 'found' : SKIP_SHARED})`,
  () => {
    it('mobilenet_v1 0.25 with its classifier gives the outputs of the TF.js model loaded whole', async () => {
      const theirs = await loadWhole('mobilenet_v1_0.25_224');
      const ours = await buildModel('mobilenet_v1', { width: 0.25, includeTop: true, env });
      const x = input(1);
      const a = theirs.predict(x) as tf.Tensor,
        logits = ours.predict(x) as tf.Tensor,
        b = tf.softmax(logits);
      expect(a.shape).toEqual([2, 1000]);
      expect(await maxDiff(a, b)).toBeLessThan(1e-5);
      tf.dispose([x, a, b, logits]);
      theirs.dispose();
      ours.dispose();
    });

    it(
      'mobilenet_v2 0.35 features equal the TF.js feature extractor loaded whole, found ' + 'through TLR_WEIGHTS_DIR',
      async () => {
        const theirs = await loadWhole('mobilenet_v2_0.35_224_no_top');
        const built = await loadZooModel('mobilenet_v2', { width: 0.35, env });
        expect(built.files).toMatchObject({ from: 'weights-dir', format: 'tfjs' });
        expect(built.files!.entry).toBe(path.join(W, 'mobilenet_v2_0.35_224_no_top', 'model.json'));
        const x = input(2);
        const a = theirs.predict(x) as tf.Tensor,
          b = built.model.predict(x) as tf.Tensor;
        expect(b.shape).toEqual([2, 1280]);
        expect(await maxDiff(a, b)).toBeLessThan(1e-4);
        tf.dispose([x, a, b]);
        theirs.dispose();
        built.model.dispose();
      },
    );

    it(
      'mobilenet_v2 0.35 with its classifier is refused: the no-top weights lack it, ' + 'and the error says so',
      async () => {
        await expect(buildModel('mobilenet_v2', { width: 0.35, includeTop: true, env })).rejects.toThrow(
          /missing from the file \(2\):\n\s+predictions\/kernel\n\s+predictions\/bias/,
        );
      },
    );

    it('mobilenet_v1 0.25 predicts ImageNet classes sensibly on grace_hopper.jpg', async () => {
      const model = await buildModel('mobilenet_v1', { width: 0.25, includeTop: true, env });
      const rgb = await decodeRgb(path.join(SHARED, 'images/grace_hopper.jpg'), 224);
      const x = tf.tensor4d(normalize(rgb, catalog('mobilenet_v1', 0.25).preprocessing), [1, 224, 224, 3]);
      const p = tf.softmax(model.predict(x) as tf.Tensor);
      const probs = Array.from(await p.data());
      const top5 = probs
        .map((v, i) => [v, i] as const)
        .sort((a, b) => b[0] - a[0])
        .slice(0, 5)
        .map(([, i]) => CLASSES[i]!);
      tf.dispose([x, p]);
      model.dispose();
      expect(top5).toContain('military uniform');
      expect(
        top5.filter((c) =>
          [
            'military uniform',
            'suit',
            'bow tie',
            'mortarboard',
            'Windsor tie',
            'academic gown',
            'bulletproof vest',
            'pickelhaube',
          ].includes(c),
        ).length,
      ).toBeGreaterThanOrEqual(3);
    });
  },
);
