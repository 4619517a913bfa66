import type { Code } from './codes.js';

// An example of every diagnostic code: a recipe that gets it, as if written in test/fixtures/valid/ (its data is in
// ../data/). docs/diagnostics.md shows each with the diagnostic tlr prints for it (`npm run docs`), and a test
// checks that every example still gets its code. The mapped type makes a code without an example a type error.

export interface Example {
  /** The recipe (or, with `via: 'file'`, the path `tlr plan` is given). */
  readonly recipe: string;
  /** How it is read: `check` (the default), `one` (a command that takes one recipe), `fmt`, or `file`. */
  readonly via?: 'check' | 'one' | 'fmt' | 'file';
  /** Why no recipe gets it any more (a code keeps its meaning, and is never given to another). */
  readonly retired?: string;
}

const D = '../data/flowers';
const base = (rest: string) => `from resnet18 input 64\nhead dense(3)\ntrain 2 epochs on ${D}\n${rest}`;

export const EXAMPLES: { readonly [C in Code]: Example } = {
  TLR0001: { recipe: `from resnet18\ntrain 2 epochs on ${D}\nbatch 32 ; lr 0.001\n` },
  TLR0002: { recipe: '[core]\n\trepositoryformatversion = 0\n' },
  TLR0003: { recipe: '../data/flowers', via: 'file' },
  TLR0101: { recipe: `from resnet18\nhead dense(3\ntrain 2 epochs on ${D}\n` },
  TLR0201: { recipe: base('lr {1e-3, 3e-4\n') },
  TLR0202: { recipe: base('lr {1e-3, , 3e-4}\n') },
  TLR0203: { recipe: base('lr {1e-3, {3e-4, 1e-4}}\n') },
  TLR0204: { recipe: base('lr {1e-3, 0.001}\n') },
  TLR0205: { recipe: base('batch {16}\n') },
  TLR0206: { recipe: base('lr {1e-3, 3e-4}\n'), via: 'one' },
  TLR0207: {
    recipe: base(
      `batch {${Array.from({ length: 40 }, (_, i) => i + 1).join(', ')}}\nseed {${Array.from({ length: 40 }, (_, i) => i + 1).join(', ')}}\n`,
    ),
  },
  TLR0208: { recipe: base('keep best 1 after 1 epoch\n') },
  TLR0209: { recipe: base('lr {1e-3, 3e-4}\nkeep best 2 after 1 epoch\n') },
  TLR0210: { recipe: base('lr {1e-3, 3e-4}\nvary together lr, batch\n') },
  TLR0211: { recipe: base('lr {1e-3, 3e-4}\nbatch {16, 32, 64}\nvary together lr, batch\n') },
  TLR0212: { recipe: base('lr {1e-3, 3e-4}\nsample 2\n') },
  TLR0213: {
    recipe: '',
    retired: 'no recipe gets it since lists became part of the grammar: a list with no words in it is TLR0202',
  },
  TLR0214: { recipe: `from resnet18 input 64\nhead dense(3)\nfreeze until block{2, 3}\ntrain 2 epochs on ${D}\n` },
  TLR0215: { recipe: base('lr {1e-3, 3e-4}\nbatch {16, 32}\nsample 2\nsample 3\n') },
  TLR1001: { recipe: `head dense(3)\ntrain 2 epochs on ${D}\n` },
  TLR1002: { recipe: `from resnet81\ntrain 2 epochs on ${D}\n` },
  TLR1003: { recipe: `from mobilenet_v2 width 0.6\ntrain 2 epochs on ${D}\n` },
  TLR1004: { recipe: `from inception_v3 input 32\ntrain 2 epochs on ${D}\n` },
  TLR1005: { recipe: `from resnet18\nweights ftp://example.com/resnet18.bin\ntrain 2 epochs on ${D}\n` },
  TLR1006: { recipe: `from resnet18\nweights ./resnet18.safetensors\ntrain 2 epochs on ${D}\n` },
  TLR1007: { recipe: `from alexnet\ntrain 2 epochs on ${D}\n` },
  TLR1101: { recipe: `from resnet18\nfreeze until block9\ntrain 2 epochs on ${D}\n` },
  TLR1102: { recipe: `from resnet18\ntrain 2 epochs on ${D}\nthen unfreeze from layer99 train 1 epoch\n` },
  TLR1103: { recipe: `from resnet18\nfreeze none\ntrain 2 epochs on ${D}\nthen unfreeze all train 1 epoch\n` },
  TLR1104: { recipe: `from resnet18\nweights none\nfreeze until block2\ntrain 2 epochs on ${D}\n` },
  TLR1105: { recipe: `from resnet18\nfreeze first 500 layers\ntrain 2 epochs on ${D}\n` },
  TLR1201: { recipe: `from resnet18\nhead dense(64) softmax_layer\ntrain 2 epochs on ${D}\n` },
  TLR1202: { recipe: `from resnet18\nhead dense(64, relu7) dense(3)\ntrain 2 epochs on ${D}\n` },
  TLR1203: { recipe: `from resnet18\ntrain 2 epochs on ${D}\nlr 0.001 step 0.5\n` },
  TLR1204: { recipe: `from resnet18\nhead dense(2)\ntrain 2 epochs on ${D}\n` },
  TLR1205: { recipe: `from resnet18\nhead dense(3) dropout(0.2)\ntrain 2 epochs on ${D}\n` },
  TLR1301: { recipe: 'from resnet18\ntrain 2 epochs on ../data/flowerz\n' },
  TLR1302: { recipe: 'from resnet18\ntrain 2 epochs on ../data/one-class\n' },
  TLR1303: { recipe: 'from resnet18\ntrain 2 epochs on ../data/empty-class\n' },
  TLR1304: { recipe: 'from resnet18\ntrain 2 epochs\n' },
  TLR1305: {
    recipe: `from resnet18\ntrain 2 epochs on ${D}\nthen unfreeze all train 1 epoch on ../data/strawberries\n`,
  },
  TLR1306: { recipe: `from resnet18\ntrain 2 epochs on ${D}\nsplit 70/20/20\n` },
  TLR1307: { recipe: 'from resnet18\ntrain 2 epochs on ../data/split\nsplit 80/20\n' },
  TLR1308: { recipe: `from resnet18\ntrain 2 epochs on ${D}\nvalidate on ../data/flowers-wrong\n` },
  TLR1309: { recipe: 'from resnet18\ntrain 2 epochs on ../data/no-label.csv\n' },
  TLR1206: { recipe: `from resnet18\nhead dense(3) multi-label\ntrain 2 epochs on ${D}\n` },
  TLR1312: { recipe: 'from resnet18\ntrain 2 epochs on ../data/tags.csv\n' },
  TLR1313: { recipe: 'from resnet18\nhead dense(5) multi-label\ntrain 2 epochs on ../data/tags-rare.csv\n' },
  TLR1310: { recipe: `from resnet18\ntrain 2 epochs on ${D}\nsplit 99/1\n` },
  TLR1311: { recipe: `from resnet18\ntrain 2 epochs on ${D}\nsplit 50/50\n` },
  TLR1401: { recipe: `from resnet18\nfrom vgg16\ntrain 2 epochs on ${D}\n` },
  TLR1402: { recipe: `from resnet18\nthen unfreeze all\ntrain 2 epochs on ${D}\n` },
  TLR1403: { recipe: `from resnet18\ntrain 2 epochs on ${D}\nthen unfreeze all\nthen train 1 epoch\n` },
  TLR1404: { recipe: 'from resnet18\nhead dense(3)\n' },
  TLR1405: { recipe: `width 0.5\ntrain 2 epochs on ${D}\n` },
  TLR1501: { recipe: `from resnet18\ntrain 2 epochs on ${D}\nbatch 0\n` },
  TLR1502: { recipe: `from resnet18\ntrain 2.5 epochs on ${D}\n` },
  TLR1601: { recipe: `from resnet18\ntrain 2 epochs on ${D}\noptimizer adamw2\n` },
  TLR1602: { recipe: `from resnet18\ntrain 2 epochs on ${D}\nlr 0.001 cosinus\n` },
  TLR1603: { recipe: `from resnet18\ntrain 2 epochs on ${D}\nsave best by f2\n` },
  TLR1604: { recipe: `from resnet18\ntrain 2 epochs on ${D}\naugment flip, blur 2\n` },
  TLR1605: { recipe: `from resnet18\ntrain 2 epochs on ${D}\nclass weights balanced\n` },
  TLR1606: { recipe: `from resnet18\ntrain 2 epochs on ${D}\nlr fast\n` },
  TLR1607: { recipe: `from resnet18\ntrain 2 epochs on ${D}\nkeep batchnorm stats\n` },
  TLR1608: { recipe: `from resnet18\nfreeze until block2\ntrain 2 epochs on ${D}\nlr 1e-2..1e-4\n` },
  TLR1609: { recipe: `from resnet18\ntrain 2 epochs on ${D}\nlr 1e-4..1e-2\n` },
  TLR1610: { recipe: `from resnet18\ntrain 2 epochs on ${D}\nlr 0.001 warmup 2\n` },
  TLR1611: { recipe: `from resnet18\naugment flip\ntrain on ${D}\n` },
  TLR1612: { recipe: `from resnet18\ntrain 2 epochs on ${D}\n  balance labels\n` },
  TLR1613: { recipe: `from resnet18\ntrain 2 epochs on ${D}\n  balance classes\n  class weights auto\n` },
  TLR1614: { recipe: `from resnet18\ntrain 2 epochs on ${D}\nsave best by map\n` },
  TLR1615: {
    recipe: 'from resnet18\nhead dense(4) multi-label\ntrain 2 epochs on ../data/tags.csv\n  balance classes\n',
  },
  TLR1616: { recipe: `from resnet18\nfeatures int4\ntrain 2 epochs on ${D}\n` },
  TLR1617: { recipe: `from resnet18\nfeatures int8\nfreeze none\ntrain 2 epochs on ${D}\n` },
  TLR1701: { recipe: `from resnet18\ntrain 2 epochs on ${D}\nsave to ${D}\n` },
  TLR1702: { recipe: `from resnet18\ntrain 2 epochs on ${D}\nexport coreml\n` },
};
