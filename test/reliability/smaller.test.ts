import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { tlr, tlrAsync, tlrProcess } from '../helpers/cli.js';
import { implausible } from '../../src/runtime/calibration.js';

// The smaller holes: git's textconv on files that are not recipes, messages that printed `\x0a`, duplicate keys in
// a tar, named pipes and links among shards, implausible calibrations.

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-smaller-'));
const PNG = fs.readFileSync(path.resolve(__dirname, '../../recipes/quickstart/clothes/bag/bag-001.png'));

describe('plan --textconv always prints something and succeeds (git diff goes on)', () => {
  it('on a binary, a Latin-1 file and a recipe that does not check', () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, 'bin.tlr'), Buffer.from([1, 0, 2, 0xff]));
    fs.writeFileSync(
      path.join(d, 'latin.tlr'),
      Buffer.from('from resnet18 # caf\xe9\ntrain 1 epoch on ./x\n', 'latin1'),
    );
    fs.writeFileSync(path.join(d, 'bad.tlr'), 'from \u001b[2Jnowhere\n');
    const bin = tlr('plan', '--textconv', path.join(d, 'bin.tlr'));
    expect(bin.code).toBe(0);
    expect(bin.out).toMatch(/binary data, not a recipe: 4 bytes, sha256 [0-9a-f]{64}/);
    const latin = tlr('plan', '--textconv', path.join(d, 'latin.tlr'));
    expect(latin.code).toBe(0);
    expect(latin.out).toContain('not UTF-8 text (shown as Latin-1)');
    const bad = tlr('plan', '--textconv', path.join(d, 'bad.tlr'));
    expect(bad.code).toBe(0);
    expect(bad.out).not.toContain('\u001b');
  });

  it('git diff with tlr as the textconv of *.tlr shows a binary recipe in history', async () => {
    const d = tmp();
    const git = (...a: string[]) => execFileSync('git', ['-C', d, ...a], { encoding: 'utf8' });
    git('init', '-q');
    git('config', 'user.email', 't@t');
    git('config', 'user.name', 't');
    fs.writeFileSync(path.join(d, '.gitattributes'), '*.tlr diff=tlr\n');
    fs.writeFileSync(path.join(d, 'r.tlr'), Buffer.from([0, 1, 2]));
    git('add', '.');
    git('commit', '-qm', 'binary');
    fs.writeFileSync(path.join(d, 'r.tlr'), Buffer.from('caf\xe9\n', 'latin1'));
    const cli = (await import('../helpers/cli.js'))
      .cliArgs()
      .map((a) => `'${a}'`)
      .join(' ');
    git('config', 'diff.tlr.textconv', `'${process.execPath}' ${cli} plan --textconv`);
    const out = git('diff', 'HEAD');
    expect(out).toContain('binary data, not a recipe');
    expect(out).toContain('not UTF-8 text');
  });
});

describe('messages', () => {
  it("an unknown option's message and the usage after it: lines, not \\x0a", async () => {
    const r = await tlrProcess(['check', '--bogus', 'x']);
    expect(r.code).toBe(2);
    expect(r.err).not.toContain('\\x0a');
    expect(r.err.split('\n')[0]).toBe("tlr: Unknown option '--bogus'");
    expect(r.err).toContain('\nusage: tlr check');
  });
});

/** A tar of (name, bytes) members. */
async function tarOf(file: string, members: [string, Buffer][]): Promise<void> {
  const p = tar.pack();
  for (const [name, body] of members) p.entry({ name, mtime: new Date(0) }, body);
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  fs.writeFileSync(file, Buffer.concat(chunks));
}

describe('pack --index on hostile shards', () => {
  it('a key twice in a tar is an error naming both members, not a dropped image', async () => {
    const d = tmp();
    await tarOf(path.join(d, '000000.tar'), [
      ['a.png', PNG],
      ['a.cls', Buffer.from('0')],
      ['a.jpg', PNG],
      ['b.png', PNG],
      ['b.cls', Buffer.from('0')],
    ]);
    const r = await tlrAsync('pack', '--index', d);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('two members share one key (a.png and a.jpg)');
  });

  it('a named pipe or a link named like a shard is refused without reading it', async () => {
    const d = tmp();
    await tarOf(path.join(d, '000000.tar'), [
      ['a.png', PNG],
      ['a.cls', Buffer.from('0')],
    ]);
    execFileSync('mkfifo', [path.join(d, '000001.tar')]);
    const fifo = await tlrProcess(['pack', '--index', d]);
    expect(fifo.err).toContain('000001.tar is not a regular file');
    fs.rmSync(path.join(d, '000001.tar'));
    fs.symlinkSync(path.join(d, '000000.tar'), path.join(d, '000001.tar'));
    const link = await tlrAsync('pack', '--index', d);
    expect(link.err).toContain('000001.tar is a symbolic link');
    expect(fs.existsSync(path.join(d, 'tlr-shards.json'))).toBe(false);
  });
});

describe('doctor --calibrate', () => {
  it('rejects rates no machine of this kind reaches', () => {
    const cores = os.cpus().length;
    expect(implausible({ forward: 7219e9 * cores, training: 5e9 }, 'cpu')).toMatch(/is not possible here/);
    expect(implausible({ forward: 20e9, training: 5e9 }, 'cpu')).toBeNull();
    expect(implausible({ forward: 300e12, training: 100e12 }, 'cuda')).toBeNull();
    expect(implausible({ forward: Number.NaN, training: 1 }, 'cpu')).toMatch(/not possible/);
  });
});
