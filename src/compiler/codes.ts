// Every diagnostic code tlr can report, in one place. Codes never change meaning once released.
// TLR00xx lexing, TLR01xx syntax, TLR1xxx the checker (by subject).

export type Severity = 'error' | 'warning';

export const CODES = {
  TLR0001: { severity: 'error', title: 'unexpected character' },
  TLR0101: { severity: 'error', title: 'syntax error' },

  TLR1001: { severity: 'error', title: 'no model' },
  TLR1002: { severity: 'error', title: 'unknown model' },
  TLR1003: { severity: 'error', title: 'width not available' },
  TLR1004: { severity: 'error', title: 'input size not usable' },
  TLR1005: { severity: 'error', title: 'unknown weights source' },
  TLR1006: { severity: 'error', title: 'weights file not found' },
  TLR1007: { severity: 'error', title: 'no ImageNet weights for this model' },

  TLR1101: { severity: 'error', title: 'unknown freeze target' },
  TLR1102: { severity: 'error', title: 'unknown unfreeze target' },
  TLR1103: { severity: 'warning', title: 'unfreeze changes nothing' },
  TLR1104: { severity: 'warning', title: 'freezing random weights' },
  TLR1105: { severity: 'error', title: 'more layers than the model has' },

  TLR1201: { severity: 'error', title: 'unknown head layer' },
  TLR1202: { severity: 'error', title: 'unknown activation' },
  TLR1203: { severity: 'error', title: 'wrong arguments' },
  TLR1204: { severity: 'error', title: 'head does not match the classes' },
  TLR1205: { severity: 'error', title: 'head must end with dense' },

  TLR1301: { severity: 'error', title: 'data not found' },
  TLR1302: { severity: 'error', title: 'too few classes' },
  TLR1303: { severity: 'error', title: 'class without images' },
  TLR1304: { severity: 'error', title: 'no training data' },
  TLR1305: { severity: 'error', title: 'a later stage names other data' },
  TLR1306: { severity: 'error', title: 'split does not add up to 100' },
  TLR1307: { severity: 'error', title: 'the same split given twice' },
  TLR1308: { severity: 'error', title: 'classes differ between data sets' },
  TLR1309: { severity: 'error', title: 'unreadable data' },
  TLR1310: { severity: 'error', title: 'a split would be empty' },

  TLR1401: { severity: 'error', title: 'statement given twice' },
  TLR1402: { severity: 'error', title: '`then` before any `train`' },
  TLR1403: { severity: 'error', title: 'stage without `train`' },
  TLR1404: { severity: 'error', title: 'no `train`' },
  TLR1405: { severity: 'error', title: 'statement belongs to the model' },

  TLR1501: { severity: 'error', title: 'number out of range' },
  TLR1502: { severity: 'error', title: 'whole number expected' },

  TLR1601: { severity: 'error', title: 'unknown optimizer' },
  TLR1602: { severity: 'error', title: 'unknown learning-rate schedule' },
  TLR1603: { severity: 'error', title: 'unknown metric' },
  TLR1604: { severity: 'error', title: 'unknown augmentation' },
  TLR1605: { severity: 'error', title: 'unknown class weights mode' },
  TLR1606: { severity: 'error', title: 'a learning rate that is neither a number nor auto' },
  TLR1607: { severity: 'error', title: 'keep or update what, if not batchnorm statistics' },
  TLR1608: { severity: 'error', title: 'a learning-rate range that does not rise' },
  TLR1609: { severity: 'warning', title: 'a learning-rate range with only the head to train' },
  TLR1610: { severity: 'error', title: 'a warm-up as long as the stage' },
  TLR1611: { severity: 'error', title: 'no number of epochs where there is no default' },

  TLR1701: { severity: 'error', title: 'save target not allowed' },
  TLR1702: { severity: 'error', title: 'unknown export format' },
} as const satisfies Record<string, { severity: Severity; title: string }>;

export type Code = keyof typeof CODES;
