import * as fs from 'node:fs';
import * as path from 'node:path';
import { engines } from '../../engines/index.js';
import { cacheRoot } from '../../runtime/weights/locate.js';
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
export async function doctorCommand(_args: readonly string[], _flags: object, io: Output): Promise<number> {
  const versions = [`Node.js ${process.version}`];
  for (const e of engines()) {
    const d = await e.doctor();
    for (const l of d.lines) io.out(l);
    if (d.versions) versions.push(d.versions);
  }
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
  return 0;
}
