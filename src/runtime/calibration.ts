import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cacheRoot } from './weights/locate.js';
import { writeFileAtomic } from '../files/atomic.js';
import type { NetworkKind } from '../zoo/catalog.js';

// How fast each engine computes on this machine, measured once by `tlr doctor --calibrate` and
// kept in the cache folder: what turns a plan's MACs (src/review/compute.ts) into a time estimate.

export interface Calibration {
  /**
   * MACs a second computing features (forward only) and in training steps (forward and backward, as review/compute.ts
   * counts them).
   */
  readonly forward: number;
  readonly training: number;
  /** Seconds a training batch costs beyond its arithmetic, and a run's start. */
  readonly perBatch: number;
  /** Seconds each trained layer adds to a batch. */
  readonly perLayerBatch: number;
  readonly startup: number;
  /** When and with what it was measured. */
  readonly measured: string;
  readonly how: string;
}

export type { NetworkKind };
export type EngineCalibration = Partial<Record<NetworkKind, Calibration>>;

const FORMAT = 'tlr-calibration/3';

export const calibrationFile = (env: NodeJS.ProcessEnv = process.env): string =>
  path.join(cacheRoot(env), 'calibration.json');

const valid = (c: Calibration | undefined): c is Calibration =>
  !!c &&
  c.forward > 0 &&
  c.training > 0 &&
  c.perBatch >= 0 &&
  c.perLayerBatch >= 0 &&
  c.startup >= 0 &&
  Number.isFinite(c.forward + c.training + c.perBatch + c.perLayerBatch + c.startup);

/**
 * The most MACs a second a measurement may claim: on CPUs, every core at 4 GHz with two 512-bit FMA units (64 fp32
 * MACs a cycle); on a GPU, 2 PMAC/s (an H200's dense fp16 is about 1). A run that ended early or a clock that jumped
 * can give any number; an estimate built on 7,219 GMAC/s from two cores would be off by an order of magnitude.
 */
export const mostMacsPerSecond = (device: 'cpu' | 'cuda', cores = os.cpus().length): number =>
  device === 'cuda' ? 2e15 : Math.max(1, cores) * 4e9 * 64;

/** Why a measured rate cannot be true on `device`, or null. */
export function implausible(c: Pick<Calibration, 'forward' | 'training'>, device: 'cpu' | 'cuda'): string | null {
  const most = mostMacsPerSecond(device);
  for (const [what, rate] of [
    ['forward', c.forward],
    ['training', c.training],
  ] as const)
    if (!(rate > 0) || !Number.isFinite(rate) || rate > most)
      return (
        `the ${what} rate measured, ${(rate / 1e9).toFixed(1)} GMAC/s, is not possible here (at most ` +
        `${(most / 1e9).toFixed(0)} GMAC/s on ${device === 'cuda' ? 'a GPU' : `${os.cpus().length} cores`})`
      );
  return null;
}

/** Every engine's calibrations; an absent, older or damaged file reads as none (doctor says so). */
export function readCalibrations(env: NodeJS.ProcessEnv = process.env): Record<string, EngineCalibration> {
  let j: { format?: string; engines?: Record<string, EngineCalibration> };
  try {
    j = JSON.parse(fs.readFileSync(calibrationFile(env), 'utf8'));
  } catch {
    return {};
  }
  if (j?.format !== FORMAT || typeof j.engines !== 'object' || !j.engines) return {};
  const out: Record<string, EngineCalibration> = {};
  for (const [engine, kinds] of Object.entries(j.engines)) {
    const ok = Object.entries(kinds ?? {}).filter(([, c]) => valid(c));
    if (ok.length) out[engine] = Object.fromEntries(ok);
  }
  return out;
}

/** Records one engine's calibration of one kind of network beside the others'. */
export function writeCalibration(
  engine: string,
  kind: NetworkKind,
  c: Calibration,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const file = calibrationFile(env);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const all = readCalibrations(env);
  const engines = { ...all, [engine]: { ...all[engine], [kind]: c } };
  writeFileAtomic(file, `${JSON.stringify({ format: FORMAT, engines }, null, 2)}\n`);
  return file;
}
