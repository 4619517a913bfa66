// Builds the playground: one self-contained page (dist/playground/index.html) with the compiler,
// the language services and CodeMirror inlined, so it opens from file:// with no server and no
// network. `npm run build` runs it; the browser test runs it into a temporary folder.
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const NODE = ['fs', 'os', 'zlib', 'crypto', 'url', 'child_process', 'worker_threads', 'util'];

/** Node's modules for the browser: path-browserify, the schema for node:module, failing stubs for the rest. */
const nodeShims = {
  name: 'node-shims',
  setup(build) {
    build.onResolve({ filter: /^(node:)?path$/ }, () => ({
      path: path.join(root, 'node_modules/path-browserify/index.js'),
    }));
    build.onResolve({ filter: /^(node:)?module$/ }, () => ({ path: path.join(here, 'module-shim.js') }));
    build.onResolve({ filter: new RegExp(`^(node:)?(${NODE.join('|')})$`) }, () => ({
      path: path.join(here, 'shims.js'),
    }));
  },
};

export async function buildPlayground(outDir = path.join(root, 'dist/playground')) {
  const r = await esbuild.build({
    entryPoints: [path.join(root, 'src/playground/main.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: process.env.TLR_PLAYGROUND_DEBUG !== '1',
    legalComments: 'none',
    inject: [path.join(here, 'process-shim.js')],
    define: { 'import.meta.url': '"file:///playground/src/contracts/validate.js"' },
    plugins: [nodeShims],
    logLevel: 'error',
  });
  const js = r.outputFiles[0].text.replace(/<\/script/gi, '<\\/script');
  const page = fs.readFileSync(path.join(here, 'index.html'), 'utf8').replace('/*BUNDLE*/', () => js);
  fs.mkdirSync(outDir, { recursive: true });
  const out = path.join(outDir, 'index.html');
  fs.writeFileSync(out, page);
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  console.log(`wrote ${path.relative(root, await buildPlayground())}`);
