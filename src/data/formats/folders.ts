import * as fs from 'node:fs';
import * as path from 'node:path';
import { subdirs, walkImages } from '../layout.js';
import { fail, type ClassFolder, type DataFormatDef, type Entry } from './types.js';

// A folder of class folders: ./strawberries/healthy/*.jpg, ./strawberries/diseased/*.jpg
// (images may sit in subfolders of a class folder).

/** The class folders of `dir` with their image counts. */
export function classFolders(dir: string): ClassFolder[] {
  return subdirs(dir).map((name) => ({
    name,
    where: path.join(dir, name),
    images: walkImages(path.join(dir, name), dir).filter((f) => !f.problem).length,
  }));
}

/** The images of the class folders in `root`, for the classes given. */
export function classFolderEntries(root: string, classes: readonly string[]): Entry[] {
  return classes.flatMap((c, label) => {
    const d = path.join(root, c);
    return fs.existsSync(d)
      ? walkImages(d, root).map(
          (f): Entry => ({ kind: 'file', path: f.path, label, ...(f.problem ? { problem: f.problem } : {}) }),
        )
      : [];
  });
}

export const folders: DataFormatDef<'folders'> = {
  name: 'folders',
  description: 'a folder of class folders',
  probe: (dir, isFile) => {
    if (isFile) return null;
    if (!subdirs(dir).length)
      return fail(
        'empty',
        `${dir} has no class folders`,
        "put one folder per class in it, each holding that class's images (jpg, png, webp, gif, bmp, tiff)",
      );
    return { ok: true, info: { path: dir, format: 'folders', splits: { train: classFolders(dir) } } };
  },
  list: (root, _part, classes) => classFolderEntries(root, classes),
};
