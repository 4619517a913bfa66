import * as fs from 'node:fs';
import * as path from 'node:path';
import { engines } from '../../engines/index.js';
import { cacheRoot } from '../../runtime/weights/locate.js';
import { calibrationFile, readCalibrations } from '../../runtime/calibration.js';
import { turboJpegLoaded } from '../../runtime/images/jpeg.js';
import type { Output } from '../io.js';

// `tlr doctor`: each engine's section (from the engine table), then the cache, the weights folder
// and the versions.

function du(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? du(p) : fs.statSync(p).size;
  }
  return n;
}

const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;

/** `tlr doctor`: what each engine can use here, the cache and versions. */
export async function doctorCommand(
  _args: readonly string[],
  flags: { calibrate?: boolean },
  io: Output,
): Promise<number> {
  if (flags.calibrate) return calibrateAll(io);
  const versions = [`Node.js ${process.version}`];
  // The engines' probes run at once (the torch engine's is a Python process), printed in the table's order.
  for (const d of await Promise.all(engines().map((e) => e.doctor()))) {
    for (const l of d.lines) io.out(l);
    if (d.versions) versions.push(d.versions);
  }
  io.out(
    (await turboJpegLoaded())
      ? 'jpeg       decoded by libturbojpeg (TLR_TURBOJPEG=0: by sharp)'
      : 'jpeg       decoded by sharp, slower (install libturbojpeg for the fast path: apt-get install libturbojpeg0; ' +
          "brew install jpeg-turbo); the same pixels, except JPEGs at least twice a model's input size, which " +
          'libturbojpeg decodes at a reduced size and sharp whole, then averages down: a few levels apart',
  );
  const cache = cacheRoot();
  const sizes =
    `${mb(du(cache))}; weights ${mb(du(path.join(cache, 'weights')))}, features ` +
    `${mb(du(path.join(cache, 'features')))}`;
  io.out(`cache      ${cache} (${sizes}); set TLR_CACHE to move it`);
  io.out(
    `weights    TLR_WEIGHTS_DIR ` +
      `${process.env['TLR_WEIGHTS_DIR'] ? `= ${process.env['TLR_WEIGHTS_DIR']}` : 'is not set'}`,
  );
  io.out(`versions   ${versions.join(' · ')}`);
  const cal = Object.entries(readCalibrations()).flatMap(([e, kinds]) =>
    Object.entries(kinds).map(
      ([k, c]) => `${e} ${k} ${c.measured.slice(0, 10)} (${rate(c.forward)} forward, ${rate(c.training)} training)`,
    ),
  );
  io.out(`calibrated ${cal.join(' · ') || 'no engine yet: `tlr doctor --calibrate` measures them for time estimates'}`);
  return 0;
}

const rate = (macs: number) => `${(macs / 1e9).toFixed(1)} GMAC/s`;

/** Measures every engine that can run here on each kind of network; an engine that fails is named. */
async function calibrateAll(io: Output): Promise<number> {
  const { calibrate, NETWORK_KINDS } = await import('../calibrate.js');
  let status = 0;
  for (const e of engines()) {
    const missing = e.missing();
    if (missing) {
      io.out(`${e.name.padEnd(10)} skipped: ${missing}`);
      continue;
    }
    let startup: number | undefined;
    for (const kind of NETWORK_KINDS) {
      try {
        const c = await calibrate(e, kind, startup);
        startup ??= c?.startup;
        if (c)
          io.out(
            `${e.name.padEnd(10)} ${rate(c.forward)} forward, ${rate(c.training)} training, ` +
              `${(c.perBatch * 1000).toFixed(0)} ms a batch, ${c.startup.toFixed(1)} s to start (${c.how})`,
          );
      } catch (err) {
        io.err(`${e.name.padEnd(10)} calibration (${kind}) failed: ${(err as Error).message}`);
        status = 1;
      }
    }
  }
  io.out(`written: ${calibrationFile()}; plan, diff and explain now give times`);
  return status;
}
