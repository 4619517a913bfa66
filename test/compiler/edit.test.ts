import { describe, expect, it } from 'vitest';
import { setStageLr } from '../../src/compiler/edit.js';

// `tlr lr-find --write`: a stage's learning rate set in the recipe, everything else as written.

const ok = (r: ReturnType<typeof setStageLr>): string => {
  if (!r.ok) throw new Error('did not parse');
  return r.text;
};

describe('setStageLr', () => {
  it("replaces the value of the stage's lr, keeping its schedule and the comments", () => {
    const text =
      '# clothes\nfrom resnet18\nhead dense(2)\ntrain 3 epochs on ./data\n  lr 0.001 cosine # tuned by hand\n';
    const out = ok(setStageLr(text, 0, '0.003'));
    expect(out).toContain('lr 0.003 cosine');
    expect(out).toContain('# clothes');
    expect(out).toContain('# tuned by hand');
    expect(out).not.toContain('0.001');
  });
  it('adds an lr to a stage that has none (the one-liner too), in the canonical layout', () => {
    const out = ok(
      setStageLr('from resnet34 freeze until block3 head dense(2) train 10 epochs on ./strawberries', 0, '0.01'),
    );
    expect(out).toMatch(/train 10 epochs on \.\/strawberries\n {2}lr 0\.01\n/);
  });
  it('touches only the stage asked for', () => {
    const text =
      'from resnet18\nhead dense(2)\ntrain 3 epochs on ./data\n  lr 0.001\nthen unfreeze from block4 train 2 epochs\n';
    const out = ok(setStageLr(text, 1, '1e-4'));
    expect(out).toContain('lr 0.001');
    expect(out).toMatch(/then unfreeze from block4 train 2 epochs\n {2}lr 1e-4/);
  });
  it('refuses a recipe that does not parse', () => {
    expect(setStageLr('from resnet18 head dense(', 0, '0.01').ok).toBe(false);
  });
});
