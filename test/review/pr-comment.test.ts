import { describe, expect, it } from 'vitest';
import { COMMENT_LIMIT, COMMENT_MARKER, prComment } from '../../src/review/pr-comment.js';

// The pull-request comment stays one comment GitHub accepts, however long the change.

describe('the pull-request comment', () => {
  it('is nothing when no recipe changes what runs', () => {
    expect(prComment([], 'tlr diff --git main')).toBe('');
  });

  it('keeps every summary line and leaves details out, last first, to stay under the limit, saying so', () => {
    const entries = Array.from({ length: 300 }, (_, i) => ({
      file: `recipes/r${i}.tlr`,
      summary: `3 changes; training: stage 1: ${i} backbone parameters start training`,
      details: `| change ${i} |\n`.repeat(60),
    }));
    const text = prComment(entries, 'tlr diff --git main');
    expect(text.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(text.startsWith(COMMENT_MARKER)).toBe(true);
    for (const e of entries) expect(text).toContain(`- \`${e.file}\`: ${e.summary}`);
    const shown = text.split('<details>').length - 1;
    expect(shown).toBeGreaterThan(0);
    expect(shown).toBeLessThan(300);
    expect(text).toContain(`The details of ${300 - shown} recipes are left out`);
    expect(text).toContain('`tlr diff --git main` shows them all');
    // The ones kept are the first ones.
    expect(text).toContain('<code>recipes/r0.tlr</code>');
    expect(text).not.toContain('<code>recipes/r299.tlr</code>');
  });

  it('a summary alone past the limit is cut at a line, with the note', () => {
    const entries = Array.from({ length: 2000 }, (_, i) => ({
      file: `r${i}.tlr`,
      summary: 'x'.repeat(60),
      details: '',
    }));
    const text = prComment(entries, 'tlr diff --git main');
    expect(text.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(text).toContain('left out');
  });
});
