import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pick, rng } from '../helpers/random.js';
import { ServeProcess } from '../helpers/serve-process.js';
import { trainedModel } from '../helpers/trained-model.js';

// `tlr serve` stays up and well-behaved whatever its clients send: seeded random requests built from valid ones
// (paths with bad escapes and odd versions, every method, JSON tensors with fields of the wrong type, binary tensors
// whose sizes and Inference-Header-Content-Length do not add up, images cut short, random bytes). No answer is a
// 5xx, nothing is logged as an internal error, and afterwards the server gives the same probabilities as before.

const server = new ServeProcess();
let base = '',
  image: Buffer = Buffer.alloc(0);

beforeAll(async () => {
  const t = await trainedModel({ perClass: 2 });
  const dir = path.join(t.dir, 'data', 'bag');
  image = fs.readFileSync(path.join(dir, fs.readdirSync(dir)[0]!));
  base = await server.start([`tiny=${t.model}`]);
}, 120_000);

afterAll(() => server.stop());

const NAMES = ['tiny', 'nope', '%ZZ', '%C3', '%2F', '%00', 'x'.repeat(3000), 'ti%6Ey', ''];
const TAILS = ['', '/ready', '/infer', '/classify', '/versions/1/infer', '/versions/2/infer', '/infer/', '//infer'];
const QUERIES = ['', '?top=0', '?top=-1', '?top=1e9', '?top=2.5', '?top=%ZZ', '?top=1&top=2'];
const VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  1e308,
  'x',
  [],
  {},
  [1],
  [[1]],
  'FP32',
  1.5,
  [0, 32, 32, 3],
  [-1, 32, 32, 3],
];

function path_(r: () => number): string {
  if (r() < 0.7) return `/v2/models/tiny${pick(r, ['/infer', '/classify', '/versions/1/infer'])}${pick(r, QUERIES)}`;
  return pick(r, [
    `/v2/models/${pick(r, NAMES)}${pick(r, TAILS)}${pick(r, QUERIES)}`,
    '/v2',
    '/metrics',
    '/',
    '/v2/models',
  ]);
}

/** A valid tensor request (JSON numbers, or bytes after the JSON), or one with some of its parts replaced. */
function tensorRequest(r: () => number): { body: Buffer; headers: Record<string, string> } {
  const binary = r() < 0.5;
  const t: Record<string, unknown> = { name: 'input', shape: [1, 32, 32, 3], datatype: 'FP32' };
  if (binary) t.parameters = { binary_data_size: 12288 };
  else t.data = Array(3072).fill(0.25);
  const req: Record<string, unknown> = { inputs: [t] };
  let tail = binary ? Buffer.from(new Float32Array(3072).fill(0.25).buffer) : Buffer.alloc(0);
  let length = String(JSON.stringify(req).length);
  if (r() < 0.75) {
    for (const k of ['name', 'shape', 'datatype', 'data', 'parameters']) if (r() < 0.2) t[k] = pick(r, VALUES);
    if (r() < 0.2) t.parameters = { binary_data_size: pick(r, [0, 4, -4, 12288.5, 'x', null, 1e20]) };
    if (r() < 0.1) req.inputs = pick(r, VALUES);
    if (r() < 0.3) req.outputs = pick(r, [...VALUES, [{ name: 'probabilities', parameters: { binary_data: true } }]]);
    if (r() < 0.3) req.parameters = pick(r, [{ binary_data_output: true }, null, 'x', { binary_data_output: 'yes' }]);
    if (r() < 0.3) tail = Buffer.alloc(pick(r, [0, 4, 12291]));
    const json = JSON.stringify(req).length;
    length = pick(r, [String(json), String(json), '-1', 'abc', ' 5', String(json + tail.length + 1), '1e3', '0']);
  }
  const body = Buffer.concat([Buffer.from(JSON.stringify(req)), tail]);
  return { body, headers: binary || r() < 0.3 ? { 'inference-header-content-length': length } : {} };
}

function request(r: () => number): RequestInit & { url: string; method: string } {
  const method = r() < 0.8 ? 'POST' : pick(r, ['GET', 'PUT', 'DELETE', 'HEAD', 'OPTIONS']);
  const k = r();
  const made =
    k < 0.15
      ? { body: Buffer.from(Array.from({ length: Math.floor(r() * 200) }, () => Math.floor(r() * 256))), headers: {} }
      : k < 0.3
        ? { body: image.subarray(0, Math.floor(r() * (image.length + 1))), headers: {} }
        : tensorRequest(r);
  const body = method === 'GET' || method === 'HEAD' ? undefined : made.body;
  // A copy fetch takes as a body (a Buffer's view may share a larger pool).
  return { method, url: base + path_(r), headers: made.headers, ...(body ? { body: new Uint8Array(body) } : {}) };
}

const classify = async () =>
  (await (
    await fetch(`${base}/v2/models/tiny/classify?top=3`, { method: 'POST', body: new Uint8Array(image) })
  ).json()) as unknown;

describe('tlr serve under random requests', () => {
  it('answers every one below 500, logs no internal error, and gives the same probabilities after', async () => {
    const before = await classify();
    const r = rng(20261208);
    const statuses = new Map<number, number>();
    for (let i = 0; i < 400; i++) {
      const q = request(r);
      const res = await fetch(q.url, { method: q.method, headers: q.headers, ...(q.body ? { body: q.body } : {}) });
      await res.arrayBuffer();
      expect(res.status, `${q.method} ${q.url.slice(0, 100)}`).toBeLessThan(500);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
    // The requests reach the handlers, not only the router: some are answered, most refused.
    expect(statuses.get(200)).toBeGreaterThan(20);
    expect(statuses.get(400)).toBeGreaterThan(100);
    expect(server.stdout).not.toContain('"level":"error"');
    expect(await classify()).toEqual(before);
  }, 120_000);
});
