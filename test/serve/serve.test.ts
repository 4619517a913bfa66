import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRgb, normalize } from '../../src/runtime/images/image.js';
import { trainedModel } from '../helpers/trained-model.js';
import { spawnAsync, tlrAsync } from '../helpers/cli.js';
import { ServeProcess } from '../helpers/serve-process.js';

// `tlr serve` as a process, from clients tlr did not write (curl, Python's urllib) and from fetch: the Open Inference
// Protocol's routes, the same probabilities as `tlr predict`, batching of requests that arrive together, and bad
// requests (garbage, a truncated PNG, a 50 MB body, wrong tensors, an overfull server) answered 4xx/5xx while the
// server stays up; SIGTERM answers what is in flight, then exits 0.

const hasCurl = fs.existsSync('/usr/bin/curl');
let model = '',
  images: string[] = [],
  dir = '';
const server = new ServeProcess();
let base = '';

/** Starts `tlr serve` on a free port with `extra` flags; resolves with its base URL. */
const serve = (extra: string[] = [], models = [`tiny=${model}`]) => server.start(models, extra);
const stop = () => server.stop();

/** Polls /metrics until it matches `re`. */
async function until(re: RegExp): Promise<void> {
  while (!re.test(await (await fetch(`${base}/metrics`)).text())) await new Promise((r) => setTimeout(r, 5));
}

/** A classify request of `body` whose first `sent` bytes alone are sent. */
function halfSent(body: Buffer, sent = 10): net.Socket {
  const url = new URL(base);
  const s = net.connect(Number(url.port), url.hostname);
  s.write(`POST /v2/models/tiny/classify HTTP/1.1\r\nhost: x\r\ncontent-length: ${body.length}\r\n\r\n`);
  s.write(body.subarray(0, sent));
  return s;
}

const post = (route: string, body: BodyInit, type = 'application/octet-stream') =>
  fetch(`${base}/v2/models/tiny/${route}`, { method: 'POST', body, headers: { 'content-type': type } });

/** An infer request's body for `n` copies of an image's preprocessed pixels. */
async function tensorBody(image: string, n: number): Promise<string> {
  const x = normalize(await decodeRgb(image, 32), { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
  const data = Array.from({ length: n }, () => Array.from(x)).flat();
  return JSON.stringify({ id: 'r1', inputs: [{ name: 'input', shape: [n, 32, 32, 3], datatype: 'FP32', data }] });
}

beforeAll(async () => {
  const t = await trainedModel({ perClass: 3 });
  dir = t.dir;
  model = t.model;
  const data = path.join(dir, 'data');
  images = fs.readdirSync(data).flatMap((c) => fs.readdirSync(path.join(data, c)).map((x) => path.join(data, c, x)));
  // Images decoded on worker threads here; the ONNX file's server below decodes on its HTTP thread.
  base = await serve(['--decode-threads', '2']);
}, 120_000);

afterAll(async () => {
  await stop();
});

describe('tlr serve', () => {
  it('answers the Open Inference Protocol: health, metadata, and infer with the probabilities predict gives', async () => {
    expect((await fetch(`${base}/v2/health/live`)).status).toBe(200);
    expect(await (await fetch(`${base}/v2/health/ready`)).json()).toEqual({ ready: true });
    const meta = await (await fetch(`${base}/v2/models/tiny`)).json();
    expect(meta.inputs[0]).toEqual({ name: 'input', datatype: 'FP32', shape: [-1, 32, 32, 3] });
    expect(meta.outputs[0]).toEqual({ name: 'probabilities', datatype: 'FP32', shape: [-1, 3] });
    const p = await tlrAsync('predict', model, images[0]!, '--json', '--top', '3');
    const want = JSON.parse(p.out)[0].top as { label: string; probability: number }[];
    const labels = JSON.parse(fs.readFileSync(path.join(model, 'labels.json'), 'utf8')) as string[];
    const r = await (await post('infer', await tensorBody(images[0]!, 2), 'application/json')).json();
    expect([r.model_name, r.id, r.outputs[0].shape]).toEqual(['tiny', 'r1', [2, 3]]);
    for (const t of want) {
      expect(r.outputs[0].data[labels.indexOf(t.label)]).toBeCloseTo(t.probability, 5);
      expect(r.outputs[0].data[3 + labels.indexOf(t.label)]).toBeCloseTo(t.probability, 5);
    }
    const c = await (await post('classify?top=3', fs.readFileSync(images[0]!))).json();
    expect(c.top.map((x: { label: string }) => x.label)).toEqual(want.map((x) => x.label));
    for (const [i, t] of want.entries()) expect(c.top[i].probability).toBeCloseTo(t.probability, 5);
  }, 60_000);

  it.skipIf(!hasCurl)('answers curl and Python urllib, clients tlr did not write', async () => {
    const curl = await spawnAsync('curl', ['-s', '--data-binary', `@${images[1]}`, `${base}/v2/models/tiny/classify`]);
    expect(JSON.parse(curl.stdout).top).toHaveLength(3);
    const py = await spawnAsync('/usr/bin/python3', [
      '-c',
      'import json, sys, urllib.request\n' +
        'body = open(sys.argv[2], "rb").read()\n' +
        'r = urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=body, method="POST"))\n' +
        'print(r.status, json.load(r)["top"][0]["label"])',
      `${base}/v2/models/tiny/classify`,
      images[1]!,
    ]);
    expect(py.stdout.trim()).toMatch(/^200 (bag|trouser|tshirt)$/);
  });

  it("takes and gives tensors as bytes (binary tensor data extension), as Triton's client sends them", async () => {
    const json = JSON.parse(await tensorBody(images[0]!, 2));
    const r = await (await post('infer', JSON.stringify(json), 'application/json')).json();
    // Python's urllib and struct: the JSON without "data", then the floats little-endian; the answer read the same way.
    const py = await spawnAsync(
      '/usr/bin/python3',
      [
        '-c',
        'import json, struct, sys, urllib.request\n' +
          'req = json.loads(sys.stdin.read())\n' +
          't = req["inputs"][0]\n' +
          'raw = struct.pack("<%df" % len(t["data"]), *t["data"])\n' +
          'del t["data"]\n' +
          't["parameters"] = {"binary_data_size": len(raw)}\n' +
          'req["parameters"] = {"binary_data_output": True}\n' +
          'head = json.dumps(req).encode()\n' +
          'r = urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=head + raw, method="POST",\n' +
          '    headers={"Inference-Header-Content-Length": str(len(head)), "Content-Type": "application/octet-stream"}))\n' +
          'body = r.read()\n' +
          'k = int(r.headers["Inference-Header-Content-Length"])\n' +
          'out = json.loads(body[:k])["outputs"][0]\n' +
          'n = out["parameters"]["binary_data_size"]\n' +
          'print(json.dumps({"shape": out["shape"], "data": struct.unpack("<%df" % (n // 4), body[k:k + n])}))',
        `${base}/v2/models/tiny/infer`,
      ],
      { input: JSON.stringify(json) },
    );
    expect(py.status, py.stderr).toBe(0);
    const got = JSON.parse(py.stdout);
    expect(got.shape).toEqual([2, 3]);
    for (const [i, v] of r.outputs[0].data.entries()) expect(got.data[i]).toBeCloseTo(v, 6);
    expect((await (await fetch(`${base}/v2`)).json()).extensions).toEqual(['binary_tensor_data']);
  });

  it('answers bad requests 4xx and stays up: garbage, a truncated PNG, a 50 MB body, wrong tensors', async () => {
    const png = fs.readFileSync(images[0]!);
    const cases: [string, BodyInit, string, number][] = [
      ['classify', Buffer.from('not an image at all, just bytes'), 'image/png', 400],
      ['classify', png.subarray(0, Math.floor(png.length / 2)), 'image/png', 400],
      ['classify', Buffer.alloc(50 * 1024 * 1024), 'application/octet-stream', 413],
      ['classify', Buffer.alloc(0), 'image/png', 400],
      ['infer', '{"inputs": [', 'application/json', 400],
      [
        'infer',
        JSON.stringify({ inputs: [{ name: 'input', shape: [1, 8, 8, 3], datatype: 'FP32', data: [] }] }),
        'application/json',
        400,
      ],
      [
        'infer',
        JSON.stringify({ inputs: [{ name: 'input', shape: [1, 32, 32, 3], datatype: 'INT8', data: [1] }] }),
        'application/json',
        400,
      ],
      [
        'infer',
        JSON.stringify({ inputs: [{ name: 'input', shape: [1, 32, 32, 3], datatype: 'FP32', data: [1, 2] }] }),
        'application/json',
        400,
      ],
      [
        'infer',
        JSON.stringify({
          inputs: [{ name: 'input', shape: [1, 32, 32, 3], datatype: 'FP32', data: Array(3072).fill('x') }],
        }),
        'application/json',
        400,
      ],
    ];
    for (const [route, body, type, status] of cases) {
      const r = await post(route, body, type);
      expect(r.status, `${route} ${String(body).slice(0, 20)}`).toBe(status);
      expect((await r.json()).error).toEqual(expect.any(String));
    }
    // Binary tensors that do not add up.
    const t = (extra: object) => ({ name: 'input', shape: [1, 32, 32, 3], datatype: 'FP32', ...extra });
    const floats = (k: number, v = 0.5) => Buffer.from(new Float32Array(k).fill(v).buffer);
    const binary: [object, Buffer, string | undefined][] = [
      [{ inputs: [t({ parameters: { binary_data_size: 3068 * 4 } })] }, floats(3068), undefined],
      [{ inputs: [t({ parameters: { binary_data_size: 3072 * 4 } })] }, floats(3072, Number.NaN), undefined],
      [{ inputs: [t({ data: Array(3072).fill(0) })] }, floats(4), undefined],
      [{ inputs: [t({ parameters: { binary_data_size: 3072 * 4 } })] }, floats(3072), '999999999'],
      [{ inputs: [t({ data: Array(3072).fill(0) })], outputs: [{ name: 'logits' }] }, Buffer.alloc(0), undefined],
    ];
    for (const [head, raw, length] of binary) {
      const json = Buffer.from(JSON.stringify(head));
      const r = await fetch(`${base}/v2/models/tiny/infer`, {
        method: 'POST',
        body: Buffer.concat([json, raw]),
        headers: { 'inference-header-content-length': length ?? String(json.length) },
      });
      expect(r.status, JSON.stringify(head).slice(0, 120)).toBe(400);
      expect((await r.json()).error).toMatch(/binary|bytes|outputs|Length/);
    }
    // A shape that claims more numbers than its body could hold is refused before anything is allocated for it.
    const claim = await post('infer', JSON.stringify({ inputs: [t({ shape: [256, 32, 32, 3], data: [1] })] }));
    expect([claim.status, (await claim.json()).error]).toEqual([400, expect.stringContaining('a body of')]);
    // A body with no length, sent in chunks past the limit: refused as it arrives, and answered.
    let sent = 0;
    const stream = new ReadableStream({
      pull(c) {
        if (sent++ < 25) c.enqueue(new Uint8Array(1024 * 1024));
        else c.close();
      },
    });
    const chunked = await fetch(`${base}/v2/models/tiny/classify`, {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    await chunked.arrayBuffer();
    expect((await fetch(`${base}/v2/models/nope`)).status).toBe(404);
    expect((await fetch(`${base}/v2/models/%ZZ/infer`, { method: 'POST', body: '{}' })).status).toBe(400);
    expect(server.stdout).not.toContain('"level":"error"');
    expect((await fetch(`${base}/v2/models/tiny/infer`)).status).toBe(405);
    expect((await post('classify', fs.readFileSync(images[2]!))).status).toBe(200);
  }, 60_000);

  it('runs requests that arrive together as batches, counted in /metrics and the access log', async () => {
    const body = fs.readFileSync(images[0]!);
    const rs = await Promise.all(Array.from({ length: 24 }, () => post('classify', body)));
    expect(rs.map((r) => r.status)).toEqual(Array(24).fill(200));
    const m = await (await fetch(`${base}/metrics`)).text();
    const batches = Number(/tlr_batch_images_count (\d+)/.exec(m)![1]);
    const imagesRun = Number(/tlr_batch_images_sum (\d+)/.exec(m)![1]);
    expect(batches).toBeLessThan(imagesRun);
    expect(m).toMatch(/tlr_requests_total\{route="classify",code="200"\} \d+/);
    const lines = server.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(
      lines.filter((l) => l.path === '/v2/models/tiny/classify' && l.status === 200).length,
    ).toBeGreaterThanOrEqual(24);
  }, 60_000);

  it('serves an ONNX file tlr export wrote beside the model folder, with the same probabilities', async () => {
    await stop();
    const file = path.join(dir, 'exported.onnx');
    const e = await tlrAsync('export', model, '--out', file);
    expect(e.code, e.err).toBe(0);
    base = await serve([], [`tiny=${model}`, file]);
    const body = fs.readFileSync(images[1]!);
    const ask = async (name: string) =>
      (await fetch(`${base}/v2/models/${name}/classify?top=3`, { method: 'POST', body })).json();
    const [folder, onnx] = await Promise.all([ask('tiny'), ask('exported')]);
    expect(onnx.top.map((t: { label: string }) => t.label)).toEqual(folder.top.map((t: { label: string }) => t.label));
    for (const [i, t] of folder.top.entries()) expect(onnx.top[i].probability).toBeCloseTo(t.probability, 5);
    const meta = await (await fetch(`${base}/v2/models/exported`)).json();
    expect(meta.outputs[0].shape).toEqual([-1, 3]);
  }, 60_000);

  it('a full server answers 503 once its queue is full; SIGTERM answers the requests in flight, then exits 0', async () => {
    await stop();
    // A request that finds the model idle waits --max-delay for others: long enough for the rest to arrive.
    base = await serve(['--max-concurrency', '2', '--max-queue', '2', '--max-delay', '300']);
    const body = fs.readFileSync(images[0]!);
    const first = Array.from({ length: 7 }, () => post('classify', body));
    const statuses = (await Promise.all(first)).map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(4);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    const inFlight = post('classify', body);
    const busy = async () => /tlr_requests_in_flight 1/.test(await (await fetch(`${base}/metrics`)).text());
    while (!(await busy())) await new Promise((r) => setTimeout(r, 5));
    const exited = stop();
    expect((await inFlight).status).toBe(200);
    expect(await exited).toBe(0);
  }, 60_000);

  it('requests past --max-concurrency wait their turn; one whose client leaves gives its place in the queue up', async () => {
    await stop();
    base = await serve(['--max-concurrency', '1', '--max-queue', '1', '--max-delay', '300']);
    const body = fs.readFileSync(images[0]!);
    const a = post('classify', body);
    await until(/tlr_requests_in_flight 1/);
    // B waits with its body half sent, then its client goes: its place in the queue is free again.
    const b = halfSent(body);
    await until(/tlr_requests_waiting 1/);
    b.destroy();
    await until(/tlr_requests_waiting 0/);
    const c = post('classify', body);
    // C waited in the place B left (had B kept it, C would have found the queue full: 503).
    expect([(await a).status, (await c).status]).toEqual([200, 200]);
    // D is answered with its body half sent, then its client goes: its place is free at once (Node fails the read),
    // not after --timeout.
    const d = halfSent(body);
    await until(/tlr_requests_in_flight 1/);
    d.destroy();
    const freed = until(/tlr_requests_in_flight 0/);
    const late = new Promise((_, reject) => setTimeout(() => reject(new Error('the place was held')), 5000));
    await Promise.race([freed, late]);
    // E is whole, then its client goes while it waits in a batch (--max-delay); SIGTERM now waits for that batch
    // before closing the model under it.
    const e = halfSent(body, body.length);
    await until(/tlr_requests_in_flight 1/);
    e.destroy();
    expect(await stop()).toBe(0);
    expect(server.stdout).not.toContain('"level":"error"');
  }, 60_000);
});

describe('tlr serve on bad flags and folders', () => {
  it('names the flag or folder, exits 2', async () => {
    const a = await tlrAsync('serve', model, '--max-batch', '0');
    expect([a.code, a.err]).toEqual([2, expect.stringContaining('--max-batch takes a whole number of at least 1')]);
    const b = await tlrAsync('serve', dir);
    expect(b.code).toBe(2);
    const c = await tlrAsync('serve', `a b=${model}`);
    expect([c.code, c.err]).toEqual([2, expect.stringContaining('cannot be in a URL')]);
  });
});
