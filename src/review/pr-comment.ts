import { htmlText, markdownCode, markdownText } from '../escape.js';

// The pull-request comment of `tlr diff --md`, as teams want it (Atlantis, Infracost, CML): one comment, updated in
// place (a hidden marker names it), the summary first and each recipe's details folded, nothing at all when nothing
// that runs changed, and never past GitHub's limit on a comment's length.

/** The first line of every comment tlr writes: a workflow finds the comment it wrote before by it. */
export const COMMENT_MARKER = '<!-- tlr-diff -->';

/** GitHub refuses a comment body longer than this (characters). */
export const COMMENT_LIMIT = 65_536 - 1;

/** One changed recipe: its line in the summary, and its details (the diff's Markdown). */
export interface CommentEntry {
  readonly file: string;
  readonly summary: string;
  readonly details: string;
}

/**
 * The comment for `entries` (the recipes whose runs change), or '' when there are none: nothing to post. Details that
 * would pass the limit are left out, last first, with a note that says how to see them.
 */
export function prComment(entries: readonly CommentEntry[], command: string, limit = COMMENT_LIMIT): string {
  if (!entries.length) return '';
  const head = [
    COMMENT_MARKER,
    `### tlr: what this change means (${entries.length === 1 ? 'one recipe' : `${entries.length} recipes`})`,
    '',
    ...entries.map((e) => `- ${markdownCode(e.file)}: ${markdownText(e.summary)}`),
    '',
  ].join('\n');
  const folded = entries.map(
    // The file and summary are the recipe's words: escaped, so that only tlr's own tags are tags.
    (e) =>
      `<details><summary><code>${htmlText(e.file)}</code>: ${htmlText(e.summary)}</summary>\n\n` +
      `${e.details.trim()}\n\n</details>\n`,
  );
  const note = (n: number) =>
    `\n_The details of ${n === 1 ? 'one recipe are' : `${n} recipes are`} left out to keep this comment under ` +
    `GitHub's limit; \`${command}\` shows them all._\n`;
  // The length with the first k details kept, from the parts' lengths: the search builds no string per try.
  const prefix = [0];
  for (const f of folded) prefix.push(prefix.at(-1)! + f.length);
  const length = (k: number) =>
    head.length + 1 + prefix[k]! + Math.max(0, k - 1) + (k < folded.length ? note(folded.length - k).length : 0);
  let kept = folded.length;
  while (kept > 0 && length(kept) > limit) kept--;
  const text = `${head}\n${folded.slice(0, kept).join('\n')}${kept < folded.length ? note(folded.length - kept) : ''}`;
  // A summary alone past the limit (thousands of recipes): cut it at a line, and say so.
  if (text.length <= limit) return text;
  const cut = text.slice(0, limit - 200);
  return `${cut.slice(0, cut.lastIndexOf('\n'))}\n${note(folded.length)}`;
}
