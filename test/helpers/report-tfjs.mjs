// Loaded with --import: reports on stderr every module specifier that names TensorFlow.js, so a
// test can check that a command never loads it.
import { register } from 'node:module';

register('data:text/javascript,' + encodeURIComponent(`
export async function resolve(spec, ctx, next) {
  if (spec.includes('@tensorflow/')) process.stderr.write('loads ' + spec + '\\n');
  return next(spec, ctx);
}`));
