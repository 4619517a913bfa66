// The largest networks (AlexNet's and VGG's 60-140 M parameters) take most of a minute each on 2
// cores: they run with TLR_HEAVY=1 (`npm run test:heavy`, which .ci/run runs after `npm test`),
// keeping `npm test` itself within its time on a laptop.
export const HEAVY = process.env['TLR_HEAVY'] === '1';
export const SKIP_HEAVY = 'a network of over 50 M parameters: runs with TLR_HEAVY=1 (npm run test:heavy)';
