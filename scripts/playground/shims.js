// What the playground's bundle gets for Node's modules: the browser has no file system, so every
// file-system call fails as a missing file would (the checker then reports, or the playground's
// stand-in data answers first), and paths are POSIX paths (path-browserify).
const missing = (p) => {
  const e = new Error(`ENOENT: no file system in the browser: ${p}`);
  e.code = 'ENOENT';
  throw e;
};
export const statSync = (p, o) => (o && o.throwIfNoEntry === false ? undefined : missing(p));
export const lstatSync = statSync;
export const readdirSync = missing;
export const readFileSync = missing;
export const existsSync = () => false;
export const realpathSync = (p) => p;
export const openSync = missing;
export const readSync = missing;
export const closeSync = () => {};
export const writeFileSync = missing;
export const mkdirSync = missing;
export const renameSync = missing;
export const rmSync = missing;
export const constants = {};
export const homedir = () => '/';
export const tmpdir = () => '/tmp';
export const platform = () => 'browser';
export const cpus = () => [];
export const gunzipSync = missing;
export const spawnSync = () => ({ status: 1, stdout: '', stderr: '' });
export const createHash = missing;
export const pathToFileURL = (p) => new URL(`file://${p}`);
export const fileURLToPath = (u) => String(u).replace(/^file:\/\//, '');
export default { statSync, lstatSync, readdirSync, readFileSync, existsSync, realpathSync, homedir, tmpdir };
