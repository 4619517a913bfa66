import * as fs from 'node:fs';
import * as path from 'node:path';
import { pick } from './random.js';
import { KEYWORDS } from '../../src/compiler/lexer.js';

// Recipes for fuzzing: the fixtures, mutated, and random word soup from the language's vocabulary.

const FIXTURES = path.resolve(__dirname, '../fixtures');
export const seeds = (): string[] =>
  ['valid', 'invalid'].flatMap((k) =>
    fs
      .readdirSync(path.join(FIXTURES, k))
      .filter((f) => f.endsWith('.tlr'))
      .map((f) => fs.readFileSync(path.join(FIXTURES, k, f), 'utf8')),
  );

const WORDS = [
  ...KEYWORDS.map((k) =>
    String(k.PATTERN)
      .replace(/^\/|\/$/g, '')
      .replace('s?', 's'),
  ),
  'resnet18',
  'mobilenet_v2',
  'block3',
  'block_13',
  'dense(2)',
  'dense(128, relu)',
  'dropout(0.2)',
  'dropout(',
  ')',
  '(',
  ',',
  '0',
  '1',
  '1e-5',
  '0.001',
  '-3',
  '99999999999',
  '80/20',
  '80/10/10',
  '50/50/50',
  '.5',
  '1e400',
  'NaN',
  './data',
  '../data/flowers',
  '../data/strawberries',
  '"quoted path"',
  '"unterminated',
  'https://example.com/m.safetensors',
  '#comment',
  '\n',
  '\n\n',
  '\t',
  'imagenet',
  'none',
  'cosine',
  'step',
  'every',
  'auto',
  'val_loss',
  'flip',
  'rotate 15',
  '@',
  'é',
  '∞',
  '\\',
  '"',
];

export function mutate(r: () => number, text: string): string {
  const ops = r() < 0.3 ? 3 : 1;
  let t = text;
  for (let i = 0; i < ops; i++) {
    const pos = Math.floor(r() * (t.length + 1));
    const lines = t.split('\n');
    switch (Math.floor(r() * 7)) {
      case 0: {
        const len = Math.floor(r() * 12);
        t = t.slice(0, pos) + t.slice(pos + len);
        break;
      }
      case 1:
        t = `${t.slice(0, pos)} ${pick(r, WORDS)} ${t.slice(pos)}`;
        break;
      case 2:
        t = t.slice(0, pos) + String.fromCharCode(32 + Math.floor(r() * 95)) + t.slice(pos + 1);
        break;
      case 3: {
        const a = Math.floor(r() * lines.length),
          b = Math.floor(r() * lines.length);
        [lines[a], lines[b]] = [lines[b]!, lines[a]!];
        t = lines.join('\n');
        break;
      }
      case 4: {
        const a = Math.floor(r() * lines.length);
        lines.splice(a, 0, lines[a]!);
        t = lines.join('\n');
        break;
      }
      case 5:
        t = t.slice(0, pos);
        break;
      default:
        t = t.replace(/\s+/g, () => pick(r, [' ', '\n', '  ', '\n  ']));
    }
  }
  return t;
}

export function soup(r: () => number): string {
  const n = 1 + Math.floor(r() * 30);
  return Array.from({ length: n }, () => pick(r, WORDS)).join(pick(r, [' ', '\n', ' ']));
}
