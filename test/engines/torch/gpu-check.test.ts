import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { ROOT, spawnAsync } from '../../helpers/cli.js';
import { findTorchPython, hasTorch } from '../../../src/engines/torch/python.js';

// bench/gpu/: the check prepared for a machine with a GPU, run here on the CPU (DEVICE=cpu) so it
// cannot rot: prepare.ts makes the data and the job folder, check.sh runs it twice and compares.

const py = await findTorchPython();

it.skipIf(!hasTorch(py))(
  'bench/gpu runs end to end with DEVICE=cpu and its first-epoch losses agree',
  async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-gpu-check-'));
    try {
      const { prepare } = await import('../../../bench/gpu/prepare.js');
      const job = await prepare(work, { images: 10, epochs: 1 });
      expect(fs.existsSync(path.join(job, 'launch.sh'))).toBe(true);
      const python = hasTorch(py) ? py.python : 'python3';
      const r = await spawnAsync('bash', [path.join(ROOT, 'bench/gpu/check.sh'), work], {
        env: { ...process.env, DEVICE: 'cpu', PYTHON: python },
      });
      expect(r.status, r.stderr + r.stdout).toBe(0);
      expect(r.stdout).toMatch(/^run +device +amp +img\/s +peak MB +test acc +epoch-1 loss +vs cpu$/m);
      expect(r.stdout).toMatch(/first-epoch losses agree/);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  },
  180_000,
);
