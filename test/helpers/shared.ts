import * as fs from 'node:fs';
import * as path from 'node:path';

// The shared data (real ImageNet weights, Fashion-MNIST) lives outside the repo. Tests that need it
// skip with this message when it is absent, as on a user's fresh clone.
export const SHARED = path.resolve(process.env['TLR_SHARED'] ?? path.join(__dirname, '../../../shared'));
export const hasShared = fs.existsSync(path.join(SHARED, 'weights'));
const WHAT = 'needs ../shared (real ImageNet weights and Fashion-MNIST)';
export const SKIP_SHARED = `${WHAT}; not found at ${SHARED}; set TLR_SHARED to its path`;
if (!hasShared)
  console.warn(
    `skipping the tests that need ../shared (real ImageNet weights and Fashion-MNIST): not found at ${SHARED}; ` +
      `set TLR_SHARED to its path`,
  );
