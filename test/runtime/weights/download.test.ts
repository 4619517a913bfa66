import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resolveWeights } from '../../../src/runtime/weights/resolve.js';
import { LOCK_FILE } from '../../../src/runtime/weights/lock.js';
import type { PlanWeights } from '../../../src/contracts/plan.js';

// The download path against a server on 127.0.0.1 started here: every failure is a clear error
// and leaves the cache without partial files.

const shard1 = Buffer.alloc(3000, 7),
  shard2 = Buffer.alloc(1000, 9);
const modelJson = Buffer.from(
  JSON.stringify({
    weightsManifest: [
      {
        paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'],
        weights: [{ name: 'w/kernel', shape: [1000], dtype: 'float32' }],
      },
    ],
  }),
);
const safet = Buffer.alloc(4096, 3);
const sha = (...bs: Buffer[]) => {
  const h = createHash('sha256');
  bs.forEach((b) => {
    h.update(b);
  });
  return h.digest('hex');
};

let server: http.Server,
  base: string,
  hits: string[] = [];
beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits.push(req.url!);
    const send = (b: Buffer) => {
      res.writeHead(200, { 'content-length': b.length });
      res.end(b);
    };
    switch (req.url) {
      case '/m/model.json':
        return send(modelJson);
      case '/m/group1-shard1of2.bin':
        return send(shard1);
      case '/m/group1-shard2of2.bin':
        return send(shard2);
      case '/w.safetensors':
        return send(safet);
      case '/short.safetensors':
        res.writeHead(200, { 'content-length': 4096 });
        res.write(safet.subarray(0, 1000));
        return setTimeout(() => res.socket?.end(), 20);
      case '/gone.safetensors':
        res.writeHead(200, { 'content-length': 4096 });
        res.write(safet.subarray(0, 2048));
        return setTimeout(() => res.socket?.destroy(), 20);
      case '/brokenshard/model.json':
        return send(modelJson);
      case '/redirect/model.json':
        res.writeHead(302, { location: 'http://localhost:1/evil/model.json' });
        return res.end();
      case '/samehost/w.safetensors':
        res.writeHead(301, { location: '/w.safetensors' });
        return res.end();
      case '/escape/model.json':
        return send(Buffer.from(JSON.stringify({ weightsManifest: [{ paths: ['../../etc/hostname'], weights: [] }] })));
      case '/absolute/model.json':
        return send(
          Buffer.from(JSON.stringify({ weightsManifest: [{ paths: ['http://localhost:1/x.bin'], weights: [] }] })),
        );
      case '/huge/model.json':
        res.writeHead(200, { 'content-length': 64 * 1024 ** 2 });
        return res.end();
      case '/trickle.safetensors': {
        res.writeHead(200, { 'content-length': 4096 });
        const t = setInterval(() => {
          if (!res.write(Buffer.alloc(1))) clearInterval(t);
        }, 20);
        return res.on('close', () => clearInterval(t));
      }
      case '/brokenshard/group1-shard1of2.bin':
        return send(shard1);
      default:
        res.writeHead(404, { 'content-type': 'text/plain' });
        return res.end('not here');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

let cache: string, lockDir: string, env: NodeJS.ProcessEnv;
beforeEach(() => {
  cache = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-cache-'));
  lockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-lock-'));
  // The test server is plain http on loopback: the opt-in for a local mirror.
  env = { TLR_CACHE: cache, HOME: cache, TLR_ALLOW_HTTP: '1' };
  hits = [];
});

const imagenet = (url: string, format: 'tfjs' | 'safetensors', sha256: string | null = null): PlanWeights => ({
  kind: 'imagenet',
  url,
  format,
  sha256,
  localName: 'testnet',
  includesTop: false,
});
const files = (dir: string): string[] =>
  fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true }).map(String).sort() : [];

describe('tlr fetch', () => {
  it('downloads what a recipe needs now, pins it, and tlr plan then says it is cached', async () => {
    const { tlrAsync, tlr } = await import('../../helpers/cli.js');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-fetch-'));
    fs.cpSync(path.resolve(__dirname, '../../fixtures/data/flowers'), path.join(dir, 'flowers'), { recursive: true });
    const file = path.join(dir, 'r.tlr');
    fs.writeFileSync(file, `from resnet18 weights ${base}/w.safetensors\ntrain 1 epoch on ./flowers\n`);
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      expect(tlr('plan', file).out).toContain('NEEDS A DOWNLOAD');
      const r = await tlrAsync('fetch', file);
      expect([r.code, r.out]).toEqual([
        0,
        expect.stringMatching(/r\.tlr: downloaded into .*url-[^ ]+ \(sha256 [0-9a-f]{12}…, locked\)/),
      ]);
      expect(fs.existsSync(path.join(dir, 'tlr.lock'))).toBe(true);
      expect(tlr('plan', file).out).toMatch(/cached: .*model\.safetensors/);
      expect((await tlrAsync('fetch', file)).out).toMatch(/already cached in/);
    } finally {
      process.env = saved;
    }
  });
});

describe('untrusted downloads', () => {
  it('plain http is refused without the opt-in for a local mirror', async () => {
    const e = await resolveWeights(imagenet(`${base}/w.safetensors`, 'safetensors'), {
      env: { ...env, TLR_ALLOW_HTTP: undefined },
      lockDir,
    }).catch((x: Error) => x);
    expect(String(e)).toMatch(
      /refused http:.*only over https \(plain http is allowed for a local mirror with TLR_ALLOW_HTTP=1\)/,
    );
  });
  it('a redirect to another host is refused; one within the host is followed', async () => {
    await expect(resolveWeights(imagenet(`${base}/redirect/model.json`, 'tfjs'), { env, lockDir })).rejects.toThrow(
      /refused a redirect from .* to http:\/\/localhost:1\/evil\/model\.json/,
    );
    await expect(
      resolveWeights(imagenet(`${base}/samehost/w.safetensors`, 'safetensors'), { env, lockDir }),
    ).resolves.toMatchObject({ from: 'download' });
  });
  it.each(['escape', 'absolute'])(
    'a model.json whose shard path leaves its folder (%s) is refused, and nothing is fetched for it',
    async (what) => {
      await expect(resolveWeights(imagenet(`${base}/${what}/model.json`, 'tfjs'), { env, lockDir })).rejects.toThrow(
        /outside the model's folder/,
      );
      expect(hits.filter((h) => !h.startsWith(`/${what}/`))).toEqual([]);
      expect(files(path.join(cache, 'weights'))).toEqual([]);
    },
  );
  it('a model.json larger than tlr accepts is refused before it is read', async () => {
    await expect(resolveWeights(imagenet(`${base}/huge/model.json`, 'tfjs'), { env, lockDir })).rejects.toThrow(
      /refused .*huge\/model\.json: it is 67108864 bytes, more than the 33554432/,
    );
  });
  it('a trickle of bytes cannot keep a download alive past its deadline', async () => {
    const { download } = await import('../../../src/runtime/weights/download.js');
    const dest = path.join(cache, 'trickle.bin');
    await expect(download(`${base}/trickle.safetensors`, dest, { allowHttp: true, deadlineMs: 300 })).rejects.toThrow(
      /stopped.*took longer than 0 s in all|stopped after \d+ bytes: it took longer/,
    );
    expect(fs.readdirSync(cache)).toEqual([]);
  });
});

describe('weights download', () => {
  it(
    'downloads a TF.js model with its shards, reports progress, pins it in tlr.lock, then ' + 'uses the cache offline',
    async () => {
      const progress: number[] = [];
      const r = await resolveWeights(imagenet(`${base}/m/model.json`, 'tfjs'), {
        env,
        lockDir,
        onProgress: (p) => progress.push(p.received),
      });
      expect(r).toMatchObject({
        from: 'download',
        format: 'tfjs',
        lock: 'locked',
        sha256: sha(modelJson, shard1, shard2),
      });
      expect(files(path.join(cache, 'weights/testnet'))).toEqual([
        '.tlr-complete',
        'group1-shard1of2.bin',
        'group1-shard2of2.bin',
        'model.json',
      ]);
      expect(progress.length).toBeGreaterThanOrEqual(3);
      const lock = JSON.parse(fs.readFileSync(path.join(lockDir, LOCK_FILE), 'utf8'));
      expect(lock.weights[`${base}/m/model.json`].sha256).toBe(r!.sha256);

      hits = [];
      const again = await resolveWeights(imagenet(`${base}/m/model.json`, 'tfjs'), { env, lockDir });
      expect(again).toMatchObject({ from: 'cache', lock: 'verified' });
      expect(hits).toEqual([]);
    },
  );

  it('fails loudly when the cached weights no longer match the lock', async () => {
    await resolveWeights(imagenet(`${base}/w.safetensors`, 'safetensors'), { env, lockDir });
    fs.writeFileSync(path.join(cache, 'weights/testnet/model.safetensors'), Buffer.alloc(4096, 4));
    await expect(resolveWeights(imagenet(`${base}/w.safetensors`, 'safetensors'), { env, lockDir })).rejects.toThrow(
      /pins [0-9a-f]{64}/,
    );
  });

  it('checks a known sha256 and keeps nothing when it differs', async () => {
    await expect(
      resolveWeights(imagenet(`${base}/w.safetensors`, 'safetensors', 'a'.repeat(64)), { env, lockDir }),
    ).rejects.toThrow(/has sha256 [0-9a-f]{64}, but a{64} was expected/);
    expect(files(path.join(cache, 'weights'))).toEqual([]);
  });

  it('404: names the URL and the status, and says how to provide the file instead', async () => {
    const e = await resolveWeights(imagenet(`${base}/nope/model.json`, 'tfjs'), {
      env,
      lockDir,
      what: 'the ImageNet weights of testnet',
    }).catch((x: Error) => x);
    expect(String(e)).toMatch(
      /cannot get the ImageNet weights of testnet: download of http:\/\/127\.0\.0\.1:\d+\/nope\/model\.json failed: HTTP 404 Not Found/,
    );
    expect(String(e)).toContain('$TLR_WEIGHTS_DIR/testnet/model.json');
    expect(files(path.join(cache, 'weights'))).toEqual([]);
  });

  it('a missing shard fails the whole model and leaves no half-downloaded folder', async () => {
    await expect(resolveWeights(imagenet(`${base}/brokenshard/model.json`, 'tfjs'), { env, lockDir })).rejects.toThrow(
      /group1-shard2of2\.bin failed: HTTP 404/,
    );
    expect(files(path.join(cache, 'weights'))).toEqual([]);
  });

  it('a failed first download leaves no empty folders behind, and keeps folders it did not make', async () => {
    const fresh = path.join(cache, 'not-yet');
    const failed = resolveWeights(imagenet(`${base}/nope/model.json`, 'tfjs'), {
      env: { ...env, TLR_CACHE: fresh },
      lockDir,
    });
    await expect(failed).rejects.toThrow(/HTTP 404/);
    expect(fs.existsSync(fresh)).toBe(false);
    fs.mkdirSync(path.join(cache, 'weights'));
    await expect(resolveWeights(imagenet(`${base}/nope/model.json`, 'tfjs'), { env, lockDir })).rejects.toThrow();
    expect(fs.existsSync(path.join(cache, 'weights'))).toBe(true);
  });

  it('a body cut short is an error, not a file', async () => {
    await expect(
      resolveWeights(imagenet(`${base}/short.safetensors`, 'safetensors'), { env, lockDir }),
    ).rejects.toThrow(/(cut short: 1000 of 4096 bytes|connection .* was lost after 1000 of 4096 bytes)/);
    expect(files(path.join(cache, 'weights'))).toEqual([]);
  });

  it('a server gone mid-download is an error, not a file', async () => {
    await expect(resolveWeights(imagenet(`${base}/gone.safetensors`, 'safetensors'), { env, lockDir })).rejects.toThrow(
      /(lost after 2048 of 4096 bytes|cut short: 2048 of 4096)/,
    );
    expect(files(path.join(cache, 'weights'))).toEqual([]);
  });

  it('no server at all: says exactly which file it needs and the two ways to provide it', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const url = `http://127.0.0.1:${port}/x/model.json`;
    const e = String(await resolveWeights(imagenet(url, 'tfjs'), { env, lockDir }).catch((x: Error) => x));
    expect(e).toContain(`cannot reach ${url}: ECONNREFUSED`);
    expect(e).toContain(`tlr needs ${url} and the weight shards beside it`);
    expect(e).toContain('either connect to the network');
    expect(e).toContain('or put a copy at $TLR_WEIGHTS_DIR/testnet/model.json');
  });

  it('TLR_WEIGHTS_DIR comes before the cache and the network', async () => {
    const pre = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-pre-'));
    fs.mkdirSync(path.join(pre, 'testnet'));
    fs.writeFileSync(path.join(pre, 'testnet/model.safetensors'), safet);
    const r = await resolveWeights(imagenet(`${base}/w.safetensors`, 'safetensors'), {
      env: { ...env, TLR_WEIGHTS_DIR: pre },
      lockDir,
    });
    expect(r).toMatchObject({ from: 'weights-dir', sha256: sha(safet) });
    expect(hits).toEqual([]);
  });
});
