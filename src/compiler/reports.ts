import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CODES, type Code } from './codes.js';
import type { Diagnostic } from './diagnostics.js';
import { diagnosticJson, UNQUOTED } from './render.js';
import { LineIndex } from './source.js';
import { ghData, ghProperty } from '../escape.js';

// A whole check's diagnostics in the forms CI systems read, one entry per format: GitHub's
// workflow commands (annotations on a pull request's lines) and SARIF 2.1.0 (code scanning).
// `text` stays in render.ts, where the terminal form is drawn.

/** One checked recipe: its name as the user gave it, its text and what the checker said. */
export interface CheckedFile {
  readonly file: string;
  readonly text: string;
  readonly diagnostics: readonly Diagnostic[];
}

/** `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=TLRnnnn::message` per diagnostic. */
export function githubAnnotations(files: readonly CheckedFile[]): string {
  return files
    .flatMap((f) =>
      f.diagnostics.map((d) => {
        const props = [
          ['file', f.file],
          ['line', d.span.start.line],
          ['col', d.span.start.column],
          ['endLine', d.span.end.line],
          ['endColumn', d.span.end.column],
          ['title', `${d.code} ${CODES[d.code].title}`],
        ].map(([k, v]) => `${k}=${ghProperty(String(v))}`);
        const message = [d.message, ...d.hints.map((h) => `hint: ${h}`)].join('\n');
        return `::${d.severity} ${props.join(',')}::${ghData(message)}`;
      }),
    )
    .join('\n');
}

/** A path as a SARIF URI: relative to the base (each segment percent-encoded), else a file: URI. */
function sarifUri(file: string, base: string): { uri: string; uriBaseId?: string } {
  const rel = path.relative(base, path.resolve(file));
  if (!rel.startsWith('..') && !path.isAbsolute(rel))
    return { uri: rel.split(path.sep).map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' };
  return { uri: pathToFileURL(path.resolve(file)).href };
}

/**
 * A fingerprint that survives edits elsewhere in the file: the code, the file, the message and the
 * text of the line it points at (not the line's number), as code scanning matches results.
 */
const fingerprint = (f: CheckedFile, d: Diagnostic, lines: LineIndex) =>
  createHash('sha256')
    .update(
      [d.code, f.file, d.message, UNQUOTED.has(d.code) ? '' : lines.lineText(d.span.start.line).trim()].join('\0'),
    )
    .digest('hex')
    .slice(0, 32);

/** SARIF 2.1.0: one run, one rule per code tlr has, a result per diagnostic. */
export function sarifLog(files: readonly CheckedFile[], tool: { version: string; base?: string }): object {
  const base = tool.base ?? process.cwd();
  const codes = Object.keys(CODES) as Code[];
  const rules = codes.map((code) => ({
    id: code,
    name: CODES[code].title
      .split(/[^A-Za-z0-9]+/)
      .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
      .join(''),
    shortDescription: { text: CODES[code].title },
    fullDescription: { text: CODES[code].help },
    help: { text: CODES[code].help },
    defaultConfiguration: { level: CODES[code].severity },
  }));
  const results = files.flatMap((f) => {
    const lines = new LineIndex(f.text);
    return f.diagnostics.map((d) => ({
      ruleId: d.code,
      ruleIndex: codes.indexOf(d.code),
      level: d.severity,
      message: { text: [d.message, ...d.hints.map((h) => `hint: ${h}`)].join('\n') },
      locations: [
        {
          physicalLocation: {
            artifactLocation: sarifUri(f.file, base),
            region: {
              startLine: d.span.start.line,
              startColumn: d.span.start.column,
              endLine: d.span.end.line,
              endColumn: Math.max(
                d.span.end.column,
                d.span.start.line === d.span.end.line ? d.span.start.column + 1 : 1,
              ),
            },
          },
        },
      ],
      partialFingerprints: { 'tlrDiagnostic/v1': fingerprint(f, d, lines) },
    }));
  });
  return {
    $schema: 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'tlr', version: tool.version, semanticVersion: tool.version, rules } },
        originalUriBaseIds: { '%SRCROOT%': { uri: pathToFileURL(`${path.resolve(base)}${path.sep}`).href } },
        columnKind: 'utf16CodeUnits',
        results,
      },
    ],
  };
}

/** The JSON form: every diagnostic with its file. */
export const jsonDiagnostics = (files: readonly CheckedFile[]): object[] =>
  files.flatMap((f) => f.diagnostics.map((d) => diagnosticJson(d, f.file)));
