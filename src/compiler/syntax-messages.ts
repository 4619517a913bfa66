import type { IParserErrorMessageProvider, IToken, TokenType } from 'chevrotain';

// How syntax errors name tokens and what was expected: Chevrotain's messages in the language's words.

const DESCRIBE: Record<string, string> = {
  Identifier: 'a name',
  NumberLit: 'a number',
  StringLit: 'a quoted string',
  PathLit: 'a path',
  Url: 'a URL',
  Ratio: 'percentages like 80/20',
  LParen: "'('",
  RParen: "')'",
  Comma: "','",
  EOF: 'the end of the file',
};
/** A token type as syntax errors name it. */
export const describeTokenType = (t: TokenType): string => DESCRIBE[t.name] ?? `'${t.name.toLowerCase()}'`;
/** A token as syntax errors name it. */
export const describeToken = (t: IToken): string =>
  t.tokenType.name === 'EOF' ? 'the end of the file' : `'${t.image}'`;

const firsts = (paths: TokenType[][][]): string => {
  const seen = new Set<string>();
  for (const alt of paths) for (const path of alt) if (path[0]) seen.add(describeTokenType(path[0]));
  const list = [...seen];
  return list.length <= 1
    ? (list[0] ?? 'something else')
    : `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}`;
};

export const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, actual }) =>
    `expected ${describeTokenType(expected)} but found ${describeToken(actual)}`,
  buildNotAllInputParsedMessage: ({ firstRedundant }) => `${describeToken(firstRedundant)} does not start a statement`,
  buildNoViableAltMessage: ({ expectedPathsPerAlt, actual }) =>
    `expected ${firsts(expectedPathsPerAlt)} but found ${describeToken(actual[0]!)}`,
  buildEarlyExitMessage: ({ expectedIterationPaths, actual }) =>
    `expected ${firsts([expectedIterationPaths])} but found ${describeToken(actual[0]!)}`,
};
