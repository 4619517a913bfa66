// A network as plain data: nodes in topological order, each with its block, output shape and
// parameter count. Pure on purpose: the checker, `tlr models` and the runtime's builder all read it,
// and only the runtime turns it into TensorFlow.js layers.

export type Pad = 'same' | 'valid' | readonly [top: number, bottom: number, left: number, right: number];
export type Pair = readonly [number, number];

export type Op =
  | { readonly kind: 'input' }
  | { readonly kind: 'conv'; readonly filters: number; readonly kernel: Pair; readonly strides: Pair; readonly padding: Pad; readonly bias: boolean }
  | { readonly kind: 'depthwise'; readonly kernel: Pair; readonly strides: Pair; readonly padding: Pad; readonly bias: boolean }
  // momentum as Keras means it: moving = momentum * moving + (1 - momentum) * batch.
  | { readonly kind: 'bn'; readonly epsilon: number; readonly momentum: number }
  | { readonly kind: 'relu' }
  | { readonly kind: 'relu6' }
  | { readonly kind: 'zeropad'; readonly padding: readonly [number, number, number, number] }
  | { readonly kind: 'maxpool'; readonly pool: Pair; readonly strides: Pair; readonly padding: Pad; readonly ceil: boolean }
  // countIncludePad mirrors PyTorch's avg_pool2d default, which Inception relies on.
  | { readonly kind: 'avgpool'; readonly pool: Pair; readonly strides: Pair; readonly padding: Pad; readonly countIncludePad: boolean }
  | { readonly kind: 'adaptiveavg'; readonly size: number }
  | { readonly kind: 'gap' }
  // order 'chw' flattens like PyTorch (channels first), which torchvision's first Linear expects.
  | { readonly kind: 'flatten'; readonly order: 'chw' | 'hwc' }
  | { readonly kind: 'dense'; readonly units: number; readonly bias: boolean }
  | { readonly kind: 'dropout'; readonly rate: number }
  | { readonly kind: 'add' }
  | { readonly kind: 'concat' };

export type Shape = readonly number[]; // [h, w, c] for maps, [c] for vectors

export interface Node {
  readonly name: string;
  readonly block: string;
  readonly op: Op;
  readonly inputs: readonly string[];
  readonly shape: Shape;
  /** Trainable parameters as torchvision counts them: BatchNorm running statistics are buffers. */
  readonly params: number;
}

export interface Graph {
  readonly nodes: readonly Node[];
  readonly input: string;
  readonly output: string;
}

export class ShapeError extends Error {}

const pair = (v: number | Pair): Pair => (typeof v === 'number' ? [v, v] : v);

/** Output length of a windowed op along one axis. */
function outLen(size: number, k: number, s: number, pad: Pad, axis: 0 | 1, ceil = false): number {
  if (pad === 'same') return Math.ceil(size / s);
  const [a, b] = pad === 'valid' ? [0, 0] : axis === 0 ? [pad[0], pad[1]] : [pad[2], pad[3]];
  const span = size + a + b - k;
  if (span < 0) return 0;
  let n = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  // PyTorch: with ceil_mode the last window must start inside the input or left padding.
  if (ceil && (n - 1) * s >= size + a) n -= 1;
  return n;
}

export interface ConvOpts { kernel: number | Pair; strides?: number | Pair; padding?: Pad | number | Pair; bias?: boolean }

const toPad = (p: Pad | number | Pair | undefined): Pad => {
  if (p === undefined) return 'valid';
  if (typeof p === 'number') return [p, p, p, p];
  if (p === 'same' || p === 'valid' || p.length === 4) return p as Pad;
  const [h, w] = p as Pair;
  return [h, h, w, w];
};

/** Builds a Graph node by node, inferring shapes and counting parameters. */
export class GraphBuilder {
  private readonly nodes: Node[] = [];
  private readonly byName = new Map<string, Node>();
  block = '';

  constructor(inputSize: number, channels = 3, readonly inputName = 'input') {
    this.push({ name: inputName, block: 'input', op: { kind: 'input' }, inputs: [], shape: [inputSize, inputSize, channels], params: 0 });
  }

  shape(name: string): Shape {
    const n = this.byName.get(name);
    if (!n) throw new Error(`graph: unknown node ${name}`);
    return n.shape;
  }

  private push(n: Node): string {
    if (this.byName.has(n.name)) throw new Error(`graph: duplicate node ${n.name}`);
    if (n.shape.some((d) => !(d >= 1))) {
      throw new ShapeError(`the input is too small: layer ${n.name} would have shape [${n.shape.join(', ')}]`);
    }
    this.nodes.push(n);
    this.byName.set(n.name, n);
    return n.name;
  }

  private add(name: string, op: Op, inputs: string[], shape: Shape, params = 0): string {
    return this.push({ name, block: this.block, op, inputs, shape, params });
  }

  private spatial(x: string, k: Pair, s: Pair, p: Pad, ceil = false): [number, number] {
    const [h, w] = this.shape(x);
    return [outLen(h!, k[0], s[0], p, 0, ceil), outLen(w!, k[1], s[1], p, 1, ceil)];
  }

  conv(name: string, x: string, filters: number, o: ConvOpts): string {
    const kernel = pair(o.kernel), strides = pair(o.strides ?? 1), padding = toPad(o.padding), bias = o.bias ?? true;
    const cin = this.shape(x)[2]!;
    const params = kernel[0] * kernel[1] * cin * filters + (bias ? filters : 0);
    return this.add(name, { kind: 'conv', filters, kernel, strides, padding, bias }, [x], [...this.spatial(x, kernel, strides, padding), filters], params);
  }

  depthwise(name: string, x: string, o: ConvOpts): string {
    const kernel = pair(o.kernel), strides = pair(o.strides ?? 1), padding = toPad(o.padding), bias = o.bias ?? false;
    const c = this.shape(x)[2]!;
    const params = kernel[0] * kernel[1] * c + (bias ? c : 0);
    return this.add(name, { kind: 'depthwise', kernel, strides, padding, bias }, [x], [...this.spatial(x, kernel, strides, padding), c], params);
  }

  bn(name: string, x: string, epsilon: number, momentum: number): string {
    const s = this.shape(x);
    return this.add(name, { kind: 'bn', epsilon, momentum }, [x], s, 2 * s[s.length - 1]!);
  }

  relu(name: string, x: string, six = false): string {
    return this.add(name, { kind: six ? 'relu6' : 'relu' }, [x], this.shape(x));
  }

  zeropad(name: string, x: string, padding: readonly [number, number, number, number]): string {
    const [h, w, c] = this.shape(x);
    return this.add(name, { kind: 'zeropad', padding }, [x], [h! + padding[0] + padding[1], w! + padding[2] + padding[3], c!]);
  }

  maxpool(name: string, x: string, pool: number | Pair, strides: number | Pair, padding: Pad | number = 'valid', ceil = false): string {
    const k = pair(pool), s = pair(strides), p = toPad(padding);
    return this.add(name, { kind: 'maxpool', pool: k, strides: s, padding: p, ceil }, [x], [...this.spatial(x, k, s, p, ceil), this.shape(x)[2]!]);
  }

  avgpool(name: string, x: string, pool: number | Pair, strides: number | Pair, padding: Pad | number = 'valid', countIncludePad = true): string {
    const k = pair(pool), s = pair(strides), p = toPad(padding);
    return this.add(name, { kind: 'avgpool', pool: k, strides: s, padding: p, countIncludePad }, [x], [...this.spatial(x, k, s, p), this.shape(x)[2]!]);
  }

  adaptiveAvg(name: string, x: string, size: number): string {
    return this.add(name, { kind: 'adaptiveavg', size }, [x], [size, size, this.shape(x)[2]!]);
  }

  gap(name: string, x: string): string {
    return this.add(name, { kind: 'gap' }, [x], [this.shape(x)[2]!]);
  }

  flatten(name: string, x: string, order: 'chw' | 'hwc' = 'chw'): string {
    return this.add(name, { kind: 'flatten', order }, [x], [this.shape(x).reduce((a, b) => a * b, 1)]);
  }

  dense(name: string, x: string, units: number, bias = true): string {
    const cin = this.shape(x)[0]!;
    return this.add(name, { kind: 'dense', units, bias }, [x], [units], cin * units + (bias ? units : 0));
  }

  dropout(name: string, x: string, rate: number): string {
    return this.add(name, { kind: 'dropout', rate }, [x], this.shape(x));
  }

  sum(name: string, a: string, b: string): string {
    return this.add(name, { kind: 'add' }, [a, b], this.shape(a));
  }

  concat(name: string, xs: string[]): string {
    const [h, w] = this.shape(xs[0]!);
    const c = xs.reduce((t, x) => t + this.shape(x)[2]!, 0);
    return this.add(name, { kind: 'concat' }, xs, [h!, w!, c]);
  }

  build(output: string): Graph {
    return { nodes: [...this.nodes], input: this.inputName, output };
  }
}

/** The nodes needed to compute `output`, in the graph's order. */
export function ancestors(graph: Graph, output: string): Node[] {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const need = new Set<string>();
  const stack = [output];
  while (stack.length) {
    const name = stack.pop()!;
    if (need.has(name)) continue;
    const node = byName.get(name);
    if (!node) throw new Error(`graph: unknown node ${name}`);
    need.add(name);
    stack.push(...node.inputs);
  }
  return graph.nodes.filter((n) => need.has(n.name));
}

/**
 * A max pool's padding with ceil mode made explicit: extra rows and columns at the bottom and
 * right so the last partial window is kept (`size` is the pool's input [h, w]).
 */
export function ceilModePadding(op: { readonly pool: Pair; readonly strides: Pair; readonly padding: Pad; readonly ceil: boolean }, size: readonly number[]): Pad {
  const p = op.padding;
  if (!op.ceil || p === 'same') return p;
  const base = p === 'valid' ? [0, 0, 0, 0] : [...p];
  const extra = (len: number, a: number, b: number) => { const r = (len + a + b - op.pool[0]) % op.strides[0]; return r ? op.strides[0] - r : 0; };
  return [base[0]!, base[1]! + extra(size[0]!, base[0]!, base[1]!), base[2]!, base[3]! + extra(size[1]!, base[2]!, base[3]!)];
}
