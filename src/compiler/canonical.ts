import { isNum, type Arg, type HeadLayer, type Location } from './ast.js';

// How the clause table (clauses.ts) writes values in a clause's canonical text: paths, strings, counts, head layers.

const PATH_RE = /^(?:(?:\.{1,2}|~)(?:\/[^\s"#,(){}]*)?|\/[^\s"#,(){}]*)$/;
const URL_RE = /^[a-z][a-z0-9+.-]*:\/\/[^\s"#{}]+$/;
/** A string quoted as a recipe writes it. */
export const quote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
// A bare relative path (`strawberries`, `data/train`) is written with its ./ in canonical form.
const BARE_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*(?:\/[^\s"#,(){}]*)*$/;
export const loc = (l: Location) =>
  PATH_RE.test(l.text) || URL_RE.test(l.text)
    ? l.text
    : BARE_RE.test(l.text) && !l.text.includes('//')
      ? `./${l.text}`
      : quote(l.text);
export const arg = (a: Arg) => (isNum(a) ? a.text : a.text);
export const plural = (n: { text: string; value: number }, word: string) =>
  `${n.text} ${word}${n.value === 1 ? '' : 's'}`;
export const layers = (n: { text: string; value: number }) => plural(n, 'layer');
/** A head layer as written: `dense(2)`, `dropout(0.2)`, `batchnorm`. */
export const headLayer = (l: HeadLayer) =>
  l.args.length ? `${l.name.text}(${l.args.map(arg).join(', ')})` : l.name.text;
