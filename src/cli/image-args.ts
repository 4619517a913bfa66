import * as fs from 'node:fs';
import * as path from 'node:path';
import { globSync, isDynamicPattern } from 'tinyglobby';
import { isImageFile, walkImages } from '../data/layout.js';

// What `tlr predict` takes as images: files, folders (every image below them, in order) and glob
// patterns (quoted, so tlr expands them: 'photos/**/*.jpg'). A folder entry that is not a regular
// file is reported, never opened.

export interface ImageArgs {
  readonly images: string[];
  /** Arguments that named nothing usable, with why. */
  readonly problems: string[];
}

/** The image files `args` name, in the order given (each folder and pattern sorted). */
export function expandImages(args: readonly string[]): ImageArgs {
  const images: string[] = [],
    problems: string[] = [];
  for (const a of args) {
    if (fs.existsSync(a) && fs.statSync(a).isDirectory()) {
      const found = walkImages(a);
      for (const f of found) f.problem ? problems.push(f.problem) : images.push(f.path);
      if (!found.length) problems.push(`${a} holds no images (jpg, png, webp, gif, bmp, tiff)`);
    } else if (!fs.existsSync(a) && isDynamicPattern(a)) {
      const found = globSync(a, { onlyFiles: true, dot: false })
        .filter((f) => isImageFile(f))
        .sort();
      if (!found.length) problems.push(`${a} matches no images`);
      for (const f of found) images.push(path.normalize(f)); // not push(...): a large glob would overflow the stack
    } else images.push(a);
  }
  return { images, problems };
}
