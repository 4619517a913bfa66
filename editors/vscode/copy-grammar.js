// The TextMate grammar is generated from the lexer (`npm run grammar` at the repository's root
// writes grammar/tlr.tmLanguage.json); packaging copies that file, so the extension never holds
// a hand-edited copy.
const fs = require('node:fs');
const path = require('node:path');

const from = path.join(__dirname, '..', '..', 'grammar', 'tlr.tmLanguage.json');
const to = path.join(__dirname, 'syntaxes', 'tlr.tmLanguage.json');
fs.mkdirSync(path.dirname(to), { recursive: true });
fs.copyFileSync(from, to);
console.log(`copied ${path.relative(process.cwd(), from)} -> ${path.relative(process.cwd(), to)}`);
