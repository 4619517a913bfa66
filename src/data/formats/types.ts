import { TlrError } from '../../errors.js';
import type { SplitName } from '../layout.js';

// What every data format provides: a probe that looks at a data set without decoding it (the
// checker's view: layout, classes, counts) and a listing of its images (the runtime's view). A
// format is one file in this folder and one line in index.ts.

export interface ClassFolder {
  readonly name: string;
  /** Where the class's images are, for messages (a folder, or the labels file). */
  readonly where: string;
  readonly images: number;
}

export interface DataInfo {
  readonly path: string;
  readonly format: DataFormat;
  /** Per split found in the data itself; a plain folder or CSV has only `train`. */
  readonly splits: Partial<Record<SplitName, readonly ClassFolder[]>>;
  /**
   * Multi-label data (a CSV with a `labels` column or 0/1 columns): each image's labels, as indices into the classes
   * of `splits.train` in their order; a ClassFolder's `images` then counts the images that have that label.
   */
  readonly labelSets?: readonly (readonly number[])[];
}

export type ProbeResult =
  | { readonly ok: true; readonly info: DataInfo }
  | {
      readonly ok: false;
      readonly problem: 'missing' | 'unreadable' | 'empty';
      readonly message: string;
      readonly hints: readonly string[];
    };

/** One image of a data set: a file, an image inside an IDX file (by index), or one inside a tar shard. */
export type Entry =
  /** `problem`: why the file will not be opened (not a regular file, a link out of the data folder…). */
  | {
      readonly kind: 'file';
      readonly path: string;
      readonly label: number;
      readonly problem?: string;
      /** Multi-label data: every label of the image (`label` is the first, or -1 for none). */
      readonly labels?: readonly number[];
    }
  | { readonly kind: 'idx'; readonly file: string; readonly index: number; readonly label: number }
  /** An image inside a tar shard: its byte range (`name`: the member's name, for messages). */
  | {
      readonly kind: 'member';
      readonly shard: string;
      readonly name: string;
      readonly offset: number;
      readonly size: number;
      readonly label: number;
    };

export interface DataFormatDef<Name extends string = string> {
  readonly name: Name;
  /** What the docs and messages call it. */
  readonly description: string;
  /**
   * The data set at `abs` (a folder or a file, which exists) in this format, or null when it is
   * not in this format (the next format is asked). Reads file names and headers, never images.
   */
  probe(abs: string, isFile: boolean): ProbeResult | null;
  /** The images of one part of the data set, labelled by index into `classes`. */
  list(root: string, part: SplitName, classes: readonly string[]): Entry[];
}

/** A probe's failure. */
/** A data file that cannot be read as its format says (truncated, damaged, inconsistent); names the file. */
export class DataError extends TlrError {}

/** A probe's failure. */
export const fail = (
  problem: 'missing' | 'unreadable' | 'empty',
  message: string,
  ...hints: string[]
): ProbeResult => ({ ok: false, problem, message, hints });

/** A data format's name (each module's DataFormatDef.name; index.ts checks them against the table). */
export type DataFormat = 'folders' | 'split-folders' | 'csv' | 'idx' | 'shards';
