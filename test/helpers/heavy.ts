// The largest networks (over 20 M parameters: ResNet-50, Inception V3, AlexNet, VGG-16) take from
// seconds to most of a minute each on 2 cores: they run with TLR_HEAVY=1 (`npm run test:heavy`, which .ci/run runs after `npm test`),
// keeping `npm test` itself within its time on a laptop.
export const HEAVY = process.env['TLR_HEAVY'] === '1';
export const SKIP_HEAVY = 'a large network: runs with TLR_HEAVY=1 (npm run test:heavy)';
