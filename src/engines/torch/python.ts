import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

// Which Python runs the torch engine: $TLR_PYTHON when set, else the first of python3 on PATH and
// /usr/bin/python3 that has torch and torchvision (a pyenv or venv python3 may lack them while
// Debian's python3-torch sits in /usr/bin/python3).

/** The engine package (python in the repository and the npm package). */
export const ENGINE_DIR = fileURLToPath(new URL('../../../python', import.meta.url));

export interface TorchPython {
  readonly python: string;
  readonly torch: string;
  readonly torchvision: string;
  readonly version: string;
  readonly cuda: readonly string[];
  readonly gloo: boolean;
  readonly nccl: boolean;
}

export interface NoTorch {
  /** Each candidate tried and why it does not do. */
  readonly tried: readonly string[];
}

/**
 * glibc malloc settings that keep PyTorch's large buffers instead of handing them back to the
 * kernel after each use and faulting them in again: on a 2-core VM that made a ResNet-18 epoch at
 * 224 px 2.2 times as long (bench/split-common.ts). Values the user set win.
 */
export const KEEP_MALLOC = {
  MALLOC_MMAP_THRESHOLD_: String(32 << 20),
  MALLOC_TRIM_THRESHOLD_: String(1 << 30),
  MALLOC_TOP_PAD_: String(256 << 20),
};

/**
 * The environment a Python of the engine runs with: the engine package on PYTHONPATH, and PYTHONSAFEPATH (3.11+) so
 * that a child Python it starts puts no working folder first on sys.path either.
 */
export const engineEnv = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
  ...KEEP_MALLOC,
  ...env,
  PYTHONSAFEPATH: '1',
  PYTHONPATH: [ENGINE_DIR, env['PYTHONPATH']].filter(Boolean).join(path.delimiter),
});

/**
 * Python code run before anything is imported: sys.path without the working folder. `python3 -m` and `-c` put the
 * folder tlr was started in first on sys.path, so a `numpy.py` there (a pull request's checkout, a data folder) would
 * run as the engine imports numpy. `-I` would also drop the user's site-packages, where pip --user puts torch.
 */
export const SAFE_PATH = 'import sys,os;sys.path[:]=[p for p in sys.path if p and os.path.abspath(p)!=os.getcwd()];';

/** Arguments that run `python3 -m tlr_torch ARGS` without the working folder on sys.path. */
export const engineArgs = (...args: string[]): string[] => [
  '-c',
  `${SAFE_PATH}import runpy;runpy.run_module('tlr_torch',run_name='__main__',alter_sys=True)`,
  ...args,
];

function candidates(env: NodeJS.ProcessEnv): string[] {
  if (env['TLR_PYTHON']) return [env['TLR_PYTHON']];
  return ['python3', '/usr/bin/python3'];
}

/** A child's output, without blocking this thread (importing torch takes seconds, many on a busy machine). */
function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ status: number | null; stdout: string; stderr: string; error?: Error }>((resolve) => {
    execFile(cmd, args, { env, encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 24 }, (error, stdout, stderr) =>
      resolve({
        status: error ? (typeof error.code === 'number' ? error.code : null) : 0,
        stdout,
        stderr,
        ...(error && typeof error.code !== 'number' ? { error } : {}),
      }),
    );
  });
}

/** Asks one Python what it offers (`python3 -m tlr_torch check`: imports torch, a second or two). */
async function probe(python: string, env: NodeJS.ProcessEnv): Promise<TorchPython | string> {
  if (python.includes('/') && !fs.existsSync(python)) return `${python} does not exist`;
  const r = await run(python, engineArgs('check'), engineEnv(env));
  if (r.error)
    return `${python}: ${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : r.error.message}`;
  let info: Record<string, unknown>;
  try {
    info = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
  } catch {
    return `${python} did not answer (${(r.stderr || r.stdout).trim().split('\n').pop() ?? `status ${r.status}`})`;
  }
  if (info['missing'])
    return `${python} (Python ${info['python']}) has no ${String(info['missing']).replace(/^No module named /, '')}`;
  return {
    python: String(info['executable'] ?? python),
    torch: String(info['torch']),
    torchvision: String(info['torchvision']),
    version: String(info['python']),
    cuda: (info['cuda'] as string[]) ?? [],
    gloo: !!info['gloo'],
    nccl: !!info['nccl'],
  };
}

const found = new Map<string, TorchPython | NoTorch>();

/** The Python the torch engine uses here, or what was tried (cached per process). */
export async function findTorchPython(env: NodeJS.ProcessEnv = process.env): Promise<TorchPython | NoTorch> {
  const key = candidates(env).join('\0');
  const known = found.get(key);
  if (known) return known;
  const tried: string[] = [];
  let result: TorchPython | NoTorch | null = null;
  for (const c of candidates(env)) {
    const r = await probe(c, env);
    if (typeof r !== 'string') {
      result = r;
      break;
    }
    tried.push(r);
  }
  result ??= { tried };
  found.set(key, result);
  return result;
}

/** Whether findTorchPython found one. */
export const hasTorch = (r: TorchPython | NoTorch): r is TorchPython => 'torch' in r;

/** What to do when there is no Python with torch. */
export const installHint =
  "install Debian's packages (apt-get install -y python3-torch python3-torchvision python3-pil python3-numpy), " +
  'or pip install torch torchvision pillow numpy, or set TLR_PYTHON to a Python that has them';

/**
 * A quick answer for `tlr plan` (no torch import, a few milliseconds): the first candidate Python
 * where torch and torchvision can be found, or null.
 */
export function quickTorchPython(env: NodeJS.ProcessEnv = process.env): string | null {
  // Asked by plan's engine line and by each time estimate (diff asks for both sides): once a process.
  const key = candidates(env).join('\0');
  if (!quick.has(key)) quick.set(key, quickProbe(env));
  return quick.get(key)!;
}

const quick = new Map<string, string | null>();

function quickProbe(env: NodeJS.ProcessEnv): string | null {
  for (const c of candidates(env)) {
    if (c.includes('/') && !fs.existsSync(c)) continue;
    const r = spawnSync(
      c,
      [
        '-c',
        `${SAFE_PATH}import importlib.util as u; print(all(u.find_spec(m) for m in ("torch", "torchvision", ` +
          `"numpy", "PIL")))`,
      ],
      { encoding: 'utf8', timeout: 10_000 },
    );
    if (r.stdout?.trim() === 'True') return c;
  }
  return null;
}
