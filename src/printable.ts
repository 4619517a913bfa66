// Text from a recipe or a file name, made safe to print: control characters (terminal escape
// sequences among them) and bidirectional overrides are shown escaped (\x1b, \u202e), so a recipe
// cannot drive the terminal or reorder what a reviewer reads.

// C0 controls but tab, DEL, C1 controls, and the bidi embedding/override/isolate marks.
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const escapeChar = (c: string): string => {
  const n = c.codePointAt(0)!;
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
};

/**
 * `s` with every unsafe character escaped.
 *
 * @example printable('a\x1b[2Jb') // 'a\\x1b[2Jb'
 */
export const printable = (s: string): string => s.replace(UNSAFE, escapeChar);
