import type { Output } from '../io.js';

// One row per command: what it is called, its usage, what it does, its options with their help, and its handler.
// `tlr COMMAND --help`, `tlr --help`, docs/commands.md and the shell completions are all made from these rows.

/** An option of a command. */
export interface OptionRow {
  readonly type: 'boolean' | 'string';
  /** What the value stands for in help (`N`, `DIR`, `text|json`); none for a boolean. */
  readonly value?: string;
  readonly help: string;
  /** The values it takes, for completions (`--format <TAB>`). */
  readonly choices?: readonly string[];
  /** What a shell completes for its value. */
  readonly complete?: 'file' | 'dir';
}

export type Options = Readonly<Record<string, OptionRow>>;
export type Values = Readonly<Record<string, string | boolean | undefined>>;

/** A command of `tlr`. */
export interface CommandRow {
  readonly name: string;
  /** One line for `tlr --help` and the reference's index. */
  readonly summary: string;
  /** Each form, after `tlr NAME`. */
  readonly usage: readonly string[];
  /** What it does, as paragraphs of text (wrapped as written). */
  readonly about: string;
  /** Its options; a function, as some come from the engine table. */
  readonly options: () => Options;
  /** What follows the options: environment variables, exit status. */
  readonly notes?: string;
  /** What a shell completes for its operands. */
  readonly operands: 'recipes' | 'files' | 'dirs' | 'models' | 'none';
  readonly run: (positionals: string[], values: Values, io: Output) => number | Promise<number>;
}

/** A string option's value, or undefined. */
export const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

const STDIN_FILENAME: OptionRow = {
  type: 'string',
  value: 'PATH',
  help: 'where a recipe read from stdin (-) stands: its relative paths start there',
  complete: 'file',
};
const JSON_OPTION = (help: string): OptionRow => ({ type: 'boolean', help });

/** --backend of the commands that open a model folder. */
const BACKEND_OPTION: OptionRow = {
  type: 'string',
  value: 'NAME',
  help: 'the TensorFlow.js backend to run the model on (tlr doctor lists them)',
};

export const common = { stdinFilename: STDIN_FILENAME, json: JSON_OPTION, backend: BACKEND_OPTION } as const;
