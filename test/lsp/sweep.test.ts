import { describe, expect, it } from 'vitest';
import { completion, diagnostics, formatting, hover, inlayHints, openDoc } from '../../src/lsp/services.js';

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

  it('hovers read the variant under the cursor, at its place in the recipe', () => {
    const text = 'from {mobilenet_v1 width 0.25, resnet18} input 64\nfreeze until {block3, block4}\nhead dense(2)\n';
    const doc = openDoc('/tmp/sweep.tlr', text);
    const at = (line: number, word: string, nth = 0) => {
      const l = text.split('\n')[line]!;
      let c = -1;
      for (let i = 0; i <= nth; i++) c = l.indexOf(word, c + 1);
      return hover(doc, { line, character: c + 1 });
    };
    expect(at(0, 'resnet18')!.contents).toMatch(/^\*\*resnet18\*\*/);
    expect(at(0, 'resnet18')!.range).toEqual({ start: { line: 0, character: 31 }, end: { line: 0, character: 39 } });
    // The variant's own network, at its width and the recipe's input size.
    expect(at(0, 'mobilenet_v1')!.contents).toMatch(
      /^\*\*mobilenet_v1 width 0.25\*\*: .*\n\ninput 64×64 · .* 213,072 parameters · features 256/,
    );
    // After a list, positions are the recipe's: `input` is where it stands on the line.
    expect(at(0, 'input')!.range).toEqual({ start: { line: 0, character: 41 }, end: { line: 0, character: 46 } });
    expect(at(1, 'block4')!.contents).toMatch(/^\*\*block4\*\* of mobilenet_v1/);
    // On a list's punctuation there is nothing to describe.
    expect(hover(doc, { line: 0, character: 5 })).toBeNull();
    expect(inlayHints(doc).map((h) => h.position.line)).toContain(0);
  });

  it('completes inside a list as after its words: networks, blocks, head layers and activations', () => {
    const labels = (text: string) =>
      completion(openDoc('/tmp/sweep.tlr', text), { line: 0, character: text.indexOf('\n') }).map((c) => c.label);
    expect(labels('from {resnet18, \n')).toContain('vgg16');
    expect(labels('from {resnet18, vg\n')).toContain('vgg16');
    expect(labels('head {dense(2), dense(8, \n')).toContain('relu');
    expect(labels('head {dense(2), \n')).toContain('dropout');
  });
});
