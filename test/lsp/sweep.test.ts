import { describe, expect, it } from 'vitest';
import { diagnostics, openDoc } from '../../src/lsp/services.js';

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
});
