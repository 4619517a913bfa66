import { expect, it } from 'vitest';
import { openDoc } from '../../src/lsp/services.js';
import { SEMANTIC_TYPES, semanticTokens } from '../../src/lsp/semantic.js';

// Colours outside VS Code: every word of a recipe gets its role, decoded back from LSP's relative encoding.

it('gives clause words, networks, the words a clause takes, numbers, paths and comments their types', () => {
  const text =
    'from mobilenet_v2  # the backbone\n  width 0.35\nhead dense(3)\ntrain 2 epochs on ./data\n  optimizer sgd\n';
  const { data } = semanticTokens(openDoc('/tmp/s.tlr', text));
  const lines = text.split('\n');
  const decoded: [string, string][] = [];
  let line = 0,
    char = 0;
  for (let i = 0; i < data.length; i += 5) {
    line += data[i]!;
    char = data[i]! ? data[i + 1]! : char + data[i + 1]!;
    decoded.push([lines[line]!.slice(char, char + data[i + 2]!), SEMANTIC_TYPES[data[i + 3]!]!]);
  }
  expect(decoded).toEqual([
    ['from', 'keyword'],
    ['mobilenet_v2', 'class'],
    ['# the backbone', 'comment'],
    ['width', 'keyword'],
    ['0.35', 'number'],
    ['head', 'keyword'],
    ['dense', 'enumMember'],
    ['3', 'number'],
    ['train', 'keyword'],
    ['2', 'number'],
    ['epochs', 'keyword'],
    ['on', 'keyword'],
    ['./data', 'string'],
    ['optimizer', 'keyword'],
    ['sgd', 'enumMember'],
  ]);
});
