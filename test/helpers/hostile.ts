import * as fs from 'node:fs';
import * as path from 'node:path';

// The hostile corpus (test/fixtures/hostile/names.json) that every output's escaping test sends through: shell
// metacharacters, quotes, newlines, leading dashes, terminal escapes, bidi marks, HTML, Markdown, spreadsheet
// formulas, workflow-command forgeries and non-ASCII.

const FILE = path.resolve(__dirname, '../fixtures/hostile/names.json');

/** Every hostile name. */
export const HOSTILE: readonly string[] = JSON.parse(fs.readFileSync(FILE, 'utf8')).names;

/** Those that can stand in a recipe string (`recipe "…"`): no newline, quote or backslash. */
export const HOSTILE_RECIPE_NAMES = HOSTILE.filter((n) => !/["\\\n\r]/.test(n) && n.trim() && !/^\.+$/.test(n));

/** Those that can be a file or folder name: not `.` or `..`, no `/`. */
export const HOSTILE_FILE_NAMES = HOSTILE.filter((n) => !/^\.+$/.test(n) && !n.includes('/'));

/** Characters that must never reach a terminal raw: C0 controls but tab and newline, DEL, C1, bidi marks. */
export const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
