// The tlr extension: it starts `tlr lsp` (the command from the `tlr.path` setting) as the
// language server for .tlr files, and adds "tlr: Run this recipe", which runs the open recipe in
// a terminal. Everything a recipe means comes from the server: this file holds no language logic.
const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

const tlrPath = () => vscode.workspace.getConfiguration('tlr').get('path') || 'tlr';

/** Quotes a path for a POSIX shell or PowerShell terminal alike. */
const quoted = (p) => `'${p.replace(/'/g, "'\\''")}'`;

function activate(context) {
  const command = tlrPath();
  client = new LanguageClient(
    'tlr',
    'tlr',
    {
      run: { command, args: ['lsp', '--stdio'], transport: TransportKind.stdio },
      debug: { command, args: ['lsp', '--stdio'], transport: TransportKind.stdio },
    },
    { documentSelector: [{ scheme: 'file', language: 'tlr' }, { scheme: 'untitled', language: 'tlr' }] },
  );
  context.subscriptions.push(
    vscode.commands.registerCommand('tlr.runRecipe', async () => {
      const editor = vscode.window.activeTextEditor;
      if (!editor || editor.document.languageId !== 'tlr') return;
      await editor.document.save();
      const terminal = vscode.window.createTerminal({ name: 'tlr run', cwd: vscode.Uri.joinPath(editor.document.uri, '..') });
      terminal.show();
      terminal.sendText(`${quoted(tlrPath())} run ${quoted(editor.document.uri.fsPath)}`);
    }),
  );
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
