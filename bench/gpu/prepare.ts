// Prepares the GPU check (bench/gpu/check.sh): a small synthetic data set (3 classes of coloured
// noise, 64×64 PNGs, about 4 MB, generated here and never committed) and a job folder for it made
// by `tlr export --torchrun`, self-contained (data included), for a machine with Python, PyTorch
// and torchvision but no Node and no network.
//   npx tsx bench/gpu/prepare.ts [OUT]      (default bench/gpu/work; then: bash bench/gpu/check.sh OUT)
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';

const COLORS: Record<string, [number, number, number]> = {
  red: [200, 40, 40],
  green: [40, 180, 60],
  blue: [50, 60, 200],
};

/** Writes the data and the job folder into `out` (replaced); returns the job folder. */
export async function prepare(out: string, opts: { images?: number; epochs?: number } = {}): Promise<string> {
  const perClass = opts.images ?? 200;
  fs.rmSync(out, { recursive: true, force: true });
  let seed = 1;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (const [name, rgb] of Object.entries(COLORS)) {
    const dir = path.join(out, 'data', name);
    fs.mkdirSync(dir, { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const px = Buffer.alloc(64 * 64 * 3);
      for (let p = 0; p < px.length; p++)
        px[p] = Math.max(0, Math.min(255, rgb[p % 3]! + Math.round((rand() - 0.5) * 200)));
      await sharp(px, { raw: { width: 64, height: 64, channels: 3 } })
        .png()
        .toFile(path.join(dir, `${i}.png`));
    }
  }
  const recipe = path.join(out, 'gpu-check.tlr');
  fs.writeFileSync(
    recipe,
    `recipe "gpu-check"\nseed 7\nfrom resnet18\n  weights none\n  input 64\nhead dense(3)\n` +
      `train ${opts.epochs ?? 3} epochs on ./data\n  batch 32\n  optimizer sgd\n  lr 0.01\nsplit 70/15/15\nsave last\n`,
  );
  const job = path.join(out, 'job');
  const code = await main(['export', recipe, '--torchrun', job, '--nproc', '1']);
  if (code !== 0) throw new Error(`tlr export --torchrun failed (status ${code})`);
  // Self-contained: the images travel with the job, and DATA_ROOT points the job at them wherever it lands.
  fs.cpSync(path.join(out, 'data'), path.join(job, 'data'), { recursive: true });
  return job;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, 'work'));
  const job = await prepare(out, {
    images: Number(process.env['TLR_GPU_IMAGES'] ?? 200),
    epochs: Number(process.env['TLR_GPU_EPOCHS'] ?? 3),
  });
  console.log(`prepared ${job}; run: bash bench/gpu/check.sh ${out}`);
}
