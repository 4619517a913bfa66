import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { trainedModel } from '../helpers/trained-model.js';
import { tlrAsync } from '../helpers/cli.js';

// tlr predict on what users point it at: files, folders (recursively), quoted patterns; one line
// per image, or JSON, or CSV for scripts.

let model = '',
  data = '';
beforeAll(async () => {
  const t = await trainedModel({ perClass: 4 });
  model = t.model;
  data = path.join(t.dir, 'data');
});

describe('tlr predict', () => {
  it('takes a folder (every image below it), one line per image', async () => {
    const r = await tlrAsync('predict', model, data);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(12);
    expect(lines[0]).toMatch(/^.*data\/bag\/bag-\d+\.png: (bag|trouser|tshirt) \d+\.\d%, /);
  });

  it('expands a quoted pattern itself, and prints CSV for scripts', async () => {
    const r = await tlrAsync('predict', model, path.join(data, 'trouser', '*.png'), '--csv', '--top', '2');
    expect(r.code).toBe(0);
    const rows = r.out.trim().split('\n');
    expect(rows[0]).toBe('image,rank,label,probability');
    expect(rows).toHaveLength(1 + 4 * 2);
    expect(rows[1]).toMatch(/trouser-\d+\.png,1,(bag|trouser|tshirt),0\.\d+$/);
  });

  it('names a pattern that matches nothing and an image that is missing, prints the rest, exits 1', async () => {
    const one = path.join(data, 'bag', fs.readdirSync(path.join(data, 'bag'))[0]!);
    const r = await tlrAsync(
      'predict',
      model,
      one,
      path.join(data, 'nothing-*.png'),
      path.join(data, 'gone.png'),
      '--json',
    );
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toHaveLength(1);
    expect(r.err).toMatch(/nothing-\*\.png matches no images/);
    expect(r.err).toMatch(/gone\.png does not exist/);
  });

  it(
    "tlr eval says which part it evaluated and warns when the images are the model's " + 'own training images',
    async () => {
      const r = await tlrAsync('eval', model, data, '--json');
      expect(r.code).toBe(0);
      const ev = JSON.parse(r.out);
      expect([ev.part, ev.overlap, ev.evaluation.images]).toEqual(['train', 6, 12]);
      expect(r.err).toMatch(
        /warning: 6 of the 12 images are images this model was trained on \(compared by content\): the accuracy is inflated/,
      );
      const text = await tlrAsync('eval', model, data);
      expect(text.out.split('\n')[0]).toMatch(/: all of it \(it has no test or validation part\), on /);
    },
  );
});
