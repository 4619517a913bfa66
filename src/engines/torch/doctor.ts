import { findTorchPython, hasTorch, installHint } from './python.js';
import { TORCHVISION_NETWORKS, TORCH_NETWORKS } from './networks.js';

// The torch engine's section of `tlr doctor`: whether it is usable here, with what, and why not.

export async function torchDoctor(): Promise<{ lines: string[]; versions: string }> {
  const py = await findTorchPython();
  if (!hasTorch(py)) {
    const why = `no Python with torch and torchvision (${py.tried.join('; ')}); ${installHint}`;
    return { lines: [`torch      not usable: ${why}`], versions: '' };
  }
  const cuda = py.cuda.length
    ? `CUDA: ${py.cuda.join(', ')} (--device cuda, nccl)`
    : 'no CUDA device (--device cpu, gloo)';
  const chosen = process.env['TLR_PYTHON'] ? ' (TLR_PYTHON)' : ' (TLR_PYTHON chooses another Python)';
  const backends = `${py.gloo ? 'gloo' : 'no gloo'}${py.nccl ? ', nccl' : ''}`;
  return {
    lines: [
      `torch      usable: ${py.python} (Python ${py.version}) · PyTorch ${py.torch} · torchvision ` +
        `${py.torchvision} · ${cuda}`,
      `           tlr run RECIPE --engine torch [--nproc N]: ${backends}; networks: all ${TORCH_NETWORKS.length} ` +
        `of the zoo (${TORCH_NETWORKS.filter((n) => !TORCHVISION_NETWORKS.includes(n)).join(', ')} ` +
        `from the zoo's graph)${chosen}`,
    ],
    versions: `PyTorch ${py.torch}`,
  };
}
