// Every diagnostic code tlr can report, in one place. Codes never change meaning once released.
// TLR00xx lexing, TLR01xx syntax, TLR1xxx the checker (by subject).

export type Severity = 'error' | 'warning';

export const CODES = {
  TLR0001: {
    severity: 'error',
    title: 'unexpected character',
    help: 'A character that no token of the language starts with. Recipes use words, numbers, strings in double quotes, paths and `#` comments; remove or quote the character.',
  },
  TLR0002: {
    severity: 'error',
    title: 'not a recipe',
    help: 'The file is binary, is not UTF-8 text, or does not start with a statement of the language (`from`, `recipe`, a comment…). tlr quotes nothing from such a file: it may be a link to a secret, a configuration file or a binary. Check that you named the right file; a recipe starts with `from MODEL` or `recipe "NAME"`.',
  },
  TLR0003: {
    severity: 'error',
    title: 'cannot read the file',
    help: 'The file could not be read as a recipe: it is a folder, a named pipe, a socket or a device, a symbolic link that loops or points nowhere, larger than a recipe can be (1 MiB), or not readable by you. Name a regular recipe file.',
  },
  TLR0101: {
    severity: 'error',
    title: 'syntax error',
    help: 'The statement does not follow the grammar. The message names what was expected there; the language reference lists every statement and its arguments.',
  },

  TLR0201: {
    severity: 'error',
    title: 'variant list not closed',
    help: 'A `{` starts a list of alternatives (`lr {1e-3, 3e-4}`); close it with `}` on the same statement.',
  },
  TLR0202: {
    severity: 'error',
    title: 'empty alternative',
    help: 'Each alternative between `{`, `,` and `}` needs a value; remove the extra comma.',
  },
  TLR0203: {
    severity: 'error',
    title: 'variant list inside a variant list',
    help: 'Alternatives cannot hold alternatives: write the inner choices as alternatives of the outer list.',
  },
  TLR0204: {
    severity: 'error',
    title: 'the same alternative twice',
    help: 'An alternative is listed twice: the sweep would run the same variant twice. Remove one.',
  },
  TLR0205: {
    severity: 'warning',
    title: 'a list of one alternative',
    help: 'A list of one alternative varies nothing: write the value without braces.',
  },
  TLR0206: {
    severity: 'error',
    title: 'a sweep where one recipe is needed',
    help: 'This command takes one recipe. `tlr plan`, `tlr check` and `tlr run` take a sweep; for this command, choose one alternative of each list.',
  },
  TLR0207: {
    severity: 'error',
    title: 'too many variants',
    help: 'The lists multiply to more variants than a sweep may hold; split it into several recipes or list fewer alternatives.',
  },
  TLR0208: {
    severity: 'error',
    title: 'keep best without a sweep',
    help: '`keep best N after K epochs` stops the variants of a sweep that cannot win; it needs lists of alternatives (`lr {1e-3, 3e-4}`), N of at least 1 and K of at least 1.',
  },
  TLR0209: {
    severity: 'warning',
    title: 'keep best keeps every variant',
    help: '`keep best N` with N at least the number of variants stops none of them early: lower N, or remove the line.',
  },
  TLR0210: {
    severity: 'error',
    title: 'a vary together or sample line that cannot apply',
    help: '`vary together A, B` names two or more lists by the slot each varies (`vary together from, input`), each slot varied by one list only; `sample N` takes N from 1; both need lists of alternatives.',
  },
  TLR0211: {
    severity: 'error',
    title: 'lists varied together differ in length',
    help: 'Lists varied together take their alternatives side by side (the first with the first): give each as many alternatives.',
  },
  TLR0212: {
    severity: 'warning',
    title: 'sample keeps every variant',
    help: '`sample N` runs N of the grid: with N at least the number of variants it keeps them all; lower N or remove the line. N must be at least 1.',
  },
  TLR0213: {
    severity: 'error',
    title: 'a list outside any statement',
    help: 'A list of alternatives stands for a value inside a statement (`lr {1e-3, 3e-4}`); this one holds only comments or spaces. Remove it, or put values in it.',
  },
  TLR0214: {
    severity: 'error',
    title: 'a list joined to a word',
    help: 'A list of alternatives stands between words, not inside one: `block{3, 4}` or `./data/{a, b}` would join an alternative to the word beside it. List whole words instead: `{block3, block4}`, `{./data/a, ./data/b}`.',
  },
  TLR0215: {
    severity: 'error',
    title: "a sweep's clause given twice",
    help: 'A sweep has one `keep best`, one `sample` and one `vary together` per group of lists; keep one of each (a `vary together` line can name several lists).',
  },
  TLR1001: {
    severity: 'error',
    title: 'no model',
    help: 'Every recipe starts from a network: add `from NETWORK` (tlr models lists the zoo).',
  },
  TLR1002: {
    severity: 'error',
    title: 'unknown model',
    help: 'The network is not in the zoo. Use a name that `tlr models` lists; the hint names the closest.',
  },
  TLR1003: {
    severity: 'error',
    title: 'width not available',
    help: 'The network has no such width multiplier. `tlr models NETWORK` lists the widths it has.',
  },
  TLR1004: {
    severity: 'error',
    title: 'input size not usable',
    help: "The input size is too small for the network (a layer would have no pixels) or not a whole number. Use the network's own size or a larger one.",
  },
  TLR1005: {
    severity: 'error',
    title: 'unknown weights source',
    help: '`weights` takes imagenet, none, a path (a TF.js model.json, a .safetensors file or a model folder tlr saved) or an https URL of a model.json or .safetensors file.',
  },
  TLR1006: {
    severity: 'error',
    title: 'weights file not found',
    help: "The weights file named in the recipe does not exist; paths are relative to the recipe's folder.",
  },
  TLR1007: {
    severity: 'error',
    title: 'no ImageNet weights for this model',
    help: 'There is no published ImageNet checkpoint tlr can read for this network and width. Use another width or network, `weights none`, or a file.',
  },

  TLR1101: {
    severity: 'error',
    title: 'unknown freeze target',
    help: '`freeze until` and `freeze through` take a block or layer name of the network (`tlr models NETWORK` lists them).',
  },
  TLR1102: {
    severity: 'error',
    title: 'unknown unfreeze target',
    help: '`unfreeze from` takes a block or layer name of the network (`tlr models NETWORK` lists them).',
  },
  TLR1103: {
    severity: 'warning',
    title: 'unfreeze changes nothing',
    help: 'The stage unfreezes from a layer that is already trainable, so it trains the same layers as the stage before. Name a lower block, or drop the clause.',
  },
  TLR1104: {
    severity: 'warning',
    title: 'freezing random weights',
    help: 'With `weights none` the backbone is random: freezing it keeps random features. Train it, or load pretrained weights.',
  },
  TLR1105: {
    severity: 'error',
    title: 'more layers than the model has',
    help: '`freeze first N layers` names more layers than the backbone has; `tlr models NETWORK` gives its count.',
  },

  TLR1201: {
    severity: 'error',
    title: 'unknown head layer',
    help: 'The head takes dense(UNITS), dense(UNITS, ACTIVATION), dropout(RATE) and batchnorm.',
  },
  TLR1202: {
    severity: 'error',
    title: 'unknown activation',
    help: 'The activation is not one tlr knows; the hint lists them.',
  },
  TLR1203: {
    severity: 'error',
    title: 'wrong arguments',
    help: 'A head layer got the wrong number or kind of arguments: dense(UNITS[, ACTIVATION]), dropout(RATE), batchnorm.',
  },
  TLR1204: {
    severity: 'error',
    title: 'head does not match the classes',
    help: 'The last dense layer must have one unit per class in the data. Change its units to the number of classes.',
  },
  TLR1205: {
    severity: 'error',
    title: 'head must end with dense',
    help: 'The head must end with a dense layer that gives one score per class.',
  },
  TLR1206: {
    severity: 'error',
    title: 'multi-label head on single-label data',
    help: 'The head says `multi-label`, but the data gives one label per image (class folders, or a CSV with a `label` column). Remove `multi-label`, or train on a CSV with a `labels` column or one 0/1 column per label.',
  },

  TLR1301: {
    severity: 'error',
    title: 'data not found',
    help: "The data folder does not exist; paths are relative to the recipe's folder.",
  },
  TLR1302: {
    severity: 'error',
    title: 'too few classes',
    help: 'A classifier needs at least two classes: add class folders (or labels) to the data.',
  },
  TLR1303: {
    severity: 'error',
    title: 'class without images',
    help: 'A class has no images tlr can read (.jpg, .jpeg, .png, .webp, .gif, .bmp, .tif, .tiff). Add images or remove the class.',
  },
  TLR1304: {
    severity: 'error',
    title: 'no training data',
    help: 'There is no training data: add `train … on PATH`.',
  },
  TLR1305: {
    severity: 'error',
    title: 'a later stage names other data',
    help: 'Every stage trains on the same data; a later stage cannot name other data. Make a second recipe for other data.',
  },
  TLR1306: {
    severity: 'error',
    title: 'split does not add up to 100',
    help: '`split TRAIN/VALIDATION[/TEST]` must add up to 100.',
  },
  TLR1307: {
    severity: 'error',
    title: 'the same split given twice',
    help: "The validation or test part is given twice: by `split` and by `validate on`, `test on` or the data's own folders. Keep one.",
  },
  TLR1308: {
    severity: 'error',
    title: 'classes differ between data sets',
    help: 'The data sets of the parts have different class lists. Use the same classes in each.',
  },
  TLR1309: {
    severity: 'error',
    title: 'unreadable data',
    help: 'The data could not be read (a damaged IDX or CSV file, a permission). The message names the file.',
  },
  TLR1310: {
    severity: 'error',
    title: 'a split would be empty',
    help: 'With this split some class would have no image in a part. Use more images or a larger share for that part.',
  },
  TLR1312: {
    severity: 'error',
    title: 'multi-label data, single-label head',
    help: "The data gives several labels per image (a CSV with a `labels` column or 0/1 columns), but the head is single-label: write `multi-label` after the head's layers (`head multi-label` alone keeps the default dense).",
  },
  TLR1313: {
    severity: 'error',
    title: 'a label too rare for the split',
    help: 'Multi-label data is split so that every label appears in every part; a label with too few images leaves a part without it. Add images of that label, or remove it.',
  },
  TLR1311: {
    severity: 'warning',
    title: 'few images of a class to measure it',
    help: "The validation or test part holds fewer than 5 images of some class while it holds at least 5 of another, so the rare class's recall there moves in steps of 20% or more and it can look learnt or lost by chance. Give the part a larger share, or more images of that class.",
  },

  TLR1401: {
    severity: 'error',
    title: 'statement given twice',
    help: 'A statement that may appear once appears twice; keep one.',
  },
  TLR1402: {
    severity: 'error',
    title: '`then` before any `train`',
    help: '`then` starts a later stage, so it needs a `train` before it.',
  },
  TLR1403: {
    severity: 'error',
    title: 'stage without `train`',
    help: 'A stage after `then` needs its own `train N epochs`.',
  },
  TLR1404: {
    severity: 'error',
    title: 'no `train`',
    help: 'Nothing trains: add `train N epochs on PATH`.',
  },
  TLR1405: {
    severity: 'error',
    title: 'statement belongs to the model',
    help: 'This statement describes the model (input, width, weights) and needs a `from NETWORK` first.',
  },

  TLR1501: {
    severity: 'error',
    title: 'number out of range',
    help: 'The number is outside the range the setting allows; the message gives the range.',
  },
  TLR1502: {
    severity: 'error',
    title: 'whole number expected',
    help: 'This setting takes a whole number.',
  },

  TLR1601: {
    severity: 'error',
    title: 'unknown optimizer',
    help: 'The optimizer is not one tlr knows; the hint lists them.',
  },
  TLR1602: {
    severity: 'error',
    title: 'unknown learning-rate schedule',
    help: 'The schedule is not one tlr knows: constant, cosine, one-cycle, step.',
  },
  TLR1603: {
    severity: 'error',
    title: 'unknown metric',
    help: 'The metric is one of val_accuracy, val_loss, accuracy, loss, and for multi-label data map (val_map).',
  },
  TLR1604: {
    severity: 'error',
    title: 'unknown augmentation',
    help: 'The augmentation is not one tlr knows: flip, rotate, zoom, brightness, contrast, shift.',
  },
  TLR1605: {
    severity: 'error',
    title: 'unknown class weights mode',
    help: '`class weights` takes auto or none.',
  },
  TLR1606: {
    severity: 'error',
    title: 'a learning rate that is neither a number nor auto',
    help: '`lr` takes a number, LOW..HIGH, or auto.',
  },
  TLR1607: {
    severity: 'error',
    title: 'keep or update what, if not batchnorm statistics',
    help: '`keep` and `update` take `batchnorm statistics`.',
  },
  TLR1608: {
    severity: 'error',
    title: 'a learning-rate range that does not rise',
    help: 'In `lr LOW..HIGH` LOW must be below HIGH: the head gets HIGH and the lowest trained block LOW.',
  },
  TLR1609: {
    severity: 'warning',
    title: 'a learning-rate range with only the head to train',
    help: 'A rate per block needs backbone blocks that train; this stage trains only the head, so one rate is used.',
  },
  TLR1610: {
    severity: 'error',
    title: 'a warm-up as long as the stage',
    help: 'The warm-up takes the whole stage, so the rate never reaches its value. Use fewer warm-up epochs.',
  },
  TLR1611: {
    severity: 'error',
    title: 'no number of epochs where there is no default',
    help: 'This stage has no default number of epochs: write `train N epochs`.',
  },
  TLR1612: {
    severity: 'error',
    title: 'unknown balance mode',
    help: '`balance` takes classes or none.',
  },
  TLR1613: {
    severity: 'warning',
    title: 'classes balanced twice',
    help: '`balance classes` already draws every class equally often; `class weights auto` then weighs the rare ones up again, so the rare classes count for more than the common ones. Keep one of the two.',
  },
  TLR1614: {
    severity: 'error',
    title: 'mAP on single-label data',
    help: "`map` (the mean of the labels' average precisions) is a multi-label metric; with one label per image use val_accuracy or val_loss.",
  },
  TLR1615: {
    severity: 'error',
    title: 'not for multi-label data',
    help: 'With several labels per image, `balance classes` has no class to draw each image by (use `class weights auto`: positive weights per label), and a head cannot end in softmax (its labels are not exclusive: tlr applies one sigmoid per label).',
  },
  TLR1616: {
    severity: 'error',
    title: 'unknown feature precision',
    help: '`features` takes int8 or float (the default): the precision of the passes that compute cached features.',
  },
  TLR1617: {
    severity: 'warning',
    title: 'int8 features where no features are cached',
    help: '`features int8` applies to the passes that compute a frozen part once and cache its output. With augment on, or with every stage training the whole network, there is no such pass, so the line changes nothing.',
  },

  TLR1701: {
    severity: 'error',
    title: 'save target not allowed',
    help: "`save … to PATH` must not be the data folder, inside or around it, the recipe's folder, a home folder or a file tlr did not write.",
  },
  TLR1702: {
    severity: 'error',
    title: 'unknown export format',
    help: '`export` takes onnx.',
  },
} as const satisfies Record<string, { severity: Severity; title: string; help: string }>;

export type Code = keyof typeof CODES;
