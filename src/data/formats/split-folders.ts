import * as fs from 'node:fs';
import * as path from 'node:path';
import { subdirs, type SplitName } from '../layout.js';
import { classFolders, classFolderEntries } from './folders.js';
import type { ClassFolder, DataFormatDef } from './types.js';

// A folder with train/ (or training/) and val/ (validation/, valid/) and/or test/ (testing/), each
// holding class folders.

export const SPLIT_FOLDERS: Readonly<Record<SplitName, readonly string[]>> = {
  train: ['train', 'training'],
  validation: ['val', 'validation', 'valid'],
  test: ['test', 'testing'],
};

const partDir = (root: string, part: SplitName): string | undefined =>
  SPLIT_FOLDERS[part].map((n) => path.join(root, n)).find((p) => fs.existsSync(p));

export const splitFolders: DataFormatDef<'split-folders'> = {
  name: 'split-folders',
  description: 'a folder with train/, val/ and/or test/ folders of class folders',
  probe: (dir, isFile) => {
    if (isFile) return null;
    const dirs = subdirs(dir);
    const found = (Object.keys(SPLIT_FOLDERS) as SplitName[]).flatMap((s) => {
      const d = SPLIT_FOLDERS[s].find((n) => dirs.includes(n));
      return d ? [[s, d] as const] : [];
    });
    if (!found.some(([s]) => s === 'train')) return null;
    const splits: Partial<Record<SplitName, ClassFolder[]>> = {};
    for (const [s, d] of found) splits[s] = classFolders(path.join(dir, d));
    return { ok: true, info: { path: dir, format: 'split-folders', splits } };
  },
  list: (root, part, classes) => {
    const dir = partDir(root, part);
    if (!dir) throw new Error(`${root} has no ${part} folder (${SPLIT_FOLDERS[part].join('/')})`);
    return classFolderEntries(dir, classes);
  },
};
