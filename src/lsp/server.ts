import { fileURLToPath } from 'node:url';
import {
  createConnection,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  type ServerCapabilities,
  StreamMessageWriter,
  type Connection,
} from 'vscode-languageserver/node.js';
import { RobustMessageReader, refuseThrough } from './framing.js';
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  codeActions,
  completion,
  diagnostics,
  foldingRanges,
  formatting,
  hover,
  inlayHints,
  openDoc,
  symbols,
  type Doc,
} from './services.js';
import { SEMANTIC_LEGEND, semanticTokens } from './semantic.js';

// `tlr lsp`: the language server. It keeps each open document compiled once per version and
// answers every request from that (services.ts); diagnostics go out a moment after the last
// keystroke, as the user stops typing.

const DEBOUNCE_MS = 150;

/**
 * A document's path on disk, for its data paths; an untitled document, or a URI that names no local file
 * (`file://server/share/x.tlr`, `%ZZ`, an encoded `/`), resolves from here.
 */
export function fileOf(uri: string): string {
  if (uri.startsWith('file:'))
    try {
      return fileURLToPath(uri);
    } catch {}
  return `${process.cwd()}/untitled.tlr`;
}

/** The connection over stdin and stdout, with a reader that answers frames it cannot read and reads on. */
export function stdioConnection(): Connection {
  const writer = new StreamMessageWriter(process.stdout);
  const reader = new RobustMessageReader(process.stdin, refuseThrough(writer));
  return createConnection(ProposedFeatures.all, reader, writer);
}

const CAPABILITIES: ServerCapabilities = {
  textDocumentSync: TextDocumentSyncKind.Incremental,
  hoverProvider: true,
  completionProvider: { triggerCharacters: [' ', '/', ',', '('] },
  codeActionProvider: { codeActionKinds: ['quickfix'] },
  documentFormattingProvider: true,
  inlayHintProvider: true,
  documentSymbolProvider: true,
  foldingRangeProvider: true,
  semanticTokensProvider: { legend: SEMANTIC_LEGEND, full: true },
};

/** Each request answered by its service on the document it names (nothing for one the server does not hold). */
function answer(connection: Connection, docOf: (uri: string) => Doc | null): void {
  const withDoc =
    <P extends { textDocument: { uri: string } }, R>(fn: (doc: Doc, p: P) => R, none: R) =>
    (p: P): R => {
      const doc = docOf(p.textDocument.uri);
      return doc ? fn(doc, p) : none;
    };

  connection.onHover(
    withDoc((doc, p) => {
      const h = hover(doc, p.position);
      return h && { contents: { kind: 'markdown' as const, value: h.contents }, range: h.range };
    }, null),
  );
  connection.onCompletion(withDoc((doc, p) => completion(doc, p.position), []));
  connection.onCodeAction(
    withDoc(
      (doc, p) =>
        codeActions(doc, p.range).map((a) => ({
          title: a.title,
          kind: a.kind,
          diagnostics: [a.diagnostic],
          edit: { changes: { [p.textDocument.uri]: [a.edit] } },
        })),
      [],
    ),
  );
  connection.onDocumentFormatting(withDoc((doc) => formatting(doc), []));
  connection.languages.inlayHint.on(
    withDoc((doc) => inlayHints(doc).map((h) => ({ position: h.position, label: h.label, paddingLeft: true })), []),
  );
  connection.onDocumentSymbol(withDoc((doc) => symbols(doc), []));
  connection.onFoldingRanges(withDoc((doc) => foldingRanges(doc), []));
  connection.languages.semanticTokens.on(withDoc((doc) => semanticTokens(doc), { data: [] }));
}

export function startServer(connection: Connection = stdioConnection()): Connection {
  const documents = new TextDocuments(TextDocument);
  const compiled = new Map<string, { version: number; doc: Doc }>();
  const timers = new Map<string, NodeJS.Timeout>();

  /** The document compiled at its current version (compiled now if it changed). */
  const docOf = (uri: string): Doc | null => {
    const td = documents.get(uri);
    if (!td) return null;
    const hit = compiled.get(uri);
    if (hit?.version === td.version) return hit.doc;
    const doc = openDoc(fileOf(uri), td.getText());
    compiled.set(uri, { version: td.version, doc });
    return doc;
  };

  // Runs from a timer, outside the connection's handlers: an exception here would end the process.
  const publish = (uri: string) => {
    try {
      const doc = docOf(uri);
      if (doc) void connection.sendDiagnostics({ uri, diagnostics: diagnostics(doc) });
    } catch (e) {
      connection.console.error(`tlr lsp: could not check ${uri}: ${(e as Error).message}`);
    }
  };

  connection.onInitialize(() => ({ capabilities: CAPABILITIES, serverInfo: { name: 'tlr' } }));

  documents.onDidChangeContent(({ document }) => {
    clearTimeout(timers.get(document.uri));
    timers.set(
      document.uri,
      setTimeout(() => publish(document.uri), DEBOUNCE_MS),
    );
  });
  documents.onDidClose(({ document }) => {
    clearTimeout(timers.get(document.uri));
    compiled.delete(document.uri);
    void connection.sendDiagnostics({ uri: document.uri, diagnostics: [] });
  });

  answer(connection, docOf);

  documents.listen(connection);
  connection.listen();
  return connection;
}
