import * as fs from 'node:fs';
import * as path from 'node:path';

// What counts as an image, and walking folders of them; shared by the data formats.

export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.bmp', '.tif', '.tiff'];

/** Whether a file name has an image extension tlr decodes. */
export const isImageFile = (name: string): boolean => {
  const dot = name.lastIndexOf('.');
  return dot > 0 && IMAGE_EXTENSIONS.includes(name.slice(dot).toLowerCase());
};

export type SplitName = 'train' | 'validation' | 'test';

/** Image files below `dir`, in a stable order (hidden entries left out). */
export function walkImages(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walkImages(p));
    else if (isImageFile(e.name)) out.push(p);
  }
  return out;
}

/** Visible subfolders of `dir`, sorted. */
export const subdirs = (dir: string): string[] =>
  fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
