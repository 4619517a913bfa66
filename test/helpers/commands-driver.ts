// Runs several tlr commands in one process, one after another, marking on stderr where each
// begins: with report-engines.mjs loaded first, a module a command loads is reported under it.
// (One process instead of one each: most of a command's time is Node and tsx starting.)
import { main } from '../../src/cli/main.js';

const quiet = { out: () => {}, err: () => {} };
for (const argv of JSON.parse(process.argv[2] ?? '[]') as string[][]) {
  process.stderr.write(`=== ${argv[0]}\n`);
  await main(argv, quiet);
}
