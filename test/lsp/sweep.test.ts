import { describe, expect, it } from 'vitest';
import { diagnostics, formatting, openDoc } from '../../src/lsp/services.js';

// The language server on a sweep: the diagnostics `tlr check` gives (each variant's, named where only
// some variants have them), not "this command takes one recipe".

describe('the language server on a sweep', () => {
  it('publishes the variants’ diagnostics at their alternatives', () => {
    const text = 'from resnet18 input 64\nfreeze until {block3, block9}\nhead dense(2)\ntrain 1 epoch on ./nowhere\n';
    const ds = diagnostics(openDoc('/tmp/sweep.tlr', text));
    expect(ds.map((d) => d.code)).not.toContain('TLR0206');
    const own = ds.find((d) => /^variant [0-9a-f]{8} \(freeze until block9\)/.test(d.message))!;
    expect(own.range).toEqual({ start: { line: 1, character: 22 }, end: { line: 1, character: 28 } });
  });

  it('formats a sweep as tlr fmt does, each list where it stands', () => {
    const text = 'lr  {1e-3,3e-4}\nfrom resnet18 input 64\nhead dense(2)\ntrain 1 epoch on ./d\n';
    const edits = formatting(openDoc('/tmp/sweep.tlr', text));
    expect(edits).toHaveLength(1);
    expect(edits[0]!.newText).toBe(
      'from resnet18\n  input 64\n\nhead dense(2)\n\ntrain 1 epoch on ./d\n  lr {1e-3, 3e-4}\n',
    );
  });
});
