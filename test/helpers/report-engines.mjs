// Loaded with --import: reports on stderr every module that names TensorFlow.js or ONNX Runtime
// (or onnx-proto), imported or required, so a test can check that a command never loads them.
import Module, { register } from 'node:module';

const ENGINES = /@tensorflow\/|onnxruntime|onnx-proto/;
register(
  'data:text/javascript,' +
    encodeURIComponent(`
export async function resolve(spec, ctx, next) {
  if (${ENGINES}.test(spec)) process.stderr.write('loads ' + spec + '\\n');
  return next(spec, ctx);
}`),
);
// require() (onnxruntime-node is CommonJS, loaded through createRequire) does not go through the hook.
const load = Module._load;
Module._load = function (request, ...rest) {
  if (ENGINES.test(request)) process.stderr.write(`loads ${request}\n`);
  return load.call(this, request, ...rest);
};
