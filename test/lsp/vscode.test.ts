import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

// The VS Code extension's manifest against what it ships and what tlr is: the language and its
// file extension, the generated grammar (its scope), the command the extension registers, and the
// setting it reads.

const DIR = path.join(ROOT, 'editors/vscode');
const manifest = JSON.parse(fs.readFileSync(path.join(DIR, 'package.json'), 'utf8'));
const extension = fs.readFileSync(path.join(DIR, manifest.main), 'utf8');

it('contributes the tlr language for .tlr files, with its configuration', () => {
  expect(manifest.contributes.languages).toEqual([
    expect.objectContaining({ id: 'tlr', extensions: ['.tlr'], configuration: './language-configuration.json' }),
  ]);
  const conf = JSON.parse(fs.readFileSync(path.join(DIR, 'language-configuration.json'), 'utf8'));
  expect(conf.comments.lineComment).toBe('#');
  expect(manifest.activationEvents).toEqual(['onLanguage:tlr']);
});

it("ships the grammar `npm run grammar` generates, copied when it is packaged, with the grammar's scope", () => {
  const [g] = manifest.contributes.grammars;
  const generated = JSON.parse(fs.readFileSync(path.join(ROOT, 'grammar/tlr.tmLanguage.json'), 'utf8'));
  expect(g).toEqual({ language: 'tlr', scopeName: generated.scopeName, path: './syntaxes/tlr.tmLanguage.json' });
  expect(manifest.scripts['vscode:prepublish']).toBe('node ./copy-grammar.js');
  expect(fs.readFileSync(path.join(DIR, 'copy-grammar.js'), 'utf8')).toContain("'grammar', 'tlr.tmLanguage.json'");
});

it('registers each command it contributes and starts `tlr lsp --stdio` from the tlr.path setting', () => {
  for (const c of manifest.contributes.commands) expect(extension).toContain(`registerCommand('${c.command}'`);
  expect(Object.keys(manifest.contributes.configuration.properties)).toEqual(['tlr.path']);
  expect(extension).toContain("getConfiguration('tlr').get('path')");
  expect(extension).toContain("args: ['lsp', '--stdio']");
  expect(manifest.dependencies['vscode-languageclient']).toMatch(/^\^9\./);
  expect(fs.existsSync(path.join(DIR, manifest.main))).toBe(true);
});
