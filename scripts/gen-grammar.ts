import { writeFileSync } from 'node:fs';
import { diagramsHtml, tmLanguage } from './grammar-docs.js';

const dir = new URL('../grammar/', import.meta.url);
writeFileSync(new URL('diagrams.html', dir), diagramsHtml());
writeFileSync(new URL('tlr.tmLanguage.json', dir), tmLanguage());
console.log('wrote grammar/diagrams.html and grammar/tlr.tmLanguage.json');
