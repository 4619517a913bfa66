// A network as plain data: nodes in topological order, each with its block, output shape and
// parameter count. Pure on purpose: the checker, `tlr models` and the runtime's builder all read it,
// and only the runtime turns it into TensorFlow.js layers. What each op kind means (its shapes,
// parameters, weights, layers, program steps) is in ./ops, one file per op family.

import { opDef, type Op } from './ops/index.js';
import type { Pad, Pair, Shape } from './ops/types.js';

export type { Op, OpKind } from './ops/index.js';
export type { Pad, Pair, Shape } from './ops/types.js';
export { ceilModePadding } from './ops/pool.js';

export interface Node {
  readonly name: string;
  readonly block: string;
  readonly op: Op;
  readonly inputs: readonly string[];
  readonly shape: Shape;
  /** Trainable parameters as torchvision counts them: BatchNorm running statistics are buffers. */
  readonly params: number;
  /** Multiply-accumulates per image, forward (the op's `macs`). */
  readonly macs: number;
}

export interface Graph {
  readonly nodes: readonly Node[];
  readonly input: string;
  readonly output: string;
}

/** An input too small for a network: some layer would have no pixels. */
export class ShapeError extends Error {}

const pair = (v: number | Pair): Pair => (typeof v === 'number' ? [v, v] : v);

export interface ConvOpts {
  kernel: number | Pair;
  strides?: number | Pair;
  padding?: Pad | number | Pair;
  bias?: boolean;
}

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

  constructor(
    inputSize: number,
    channels = 3,
    readonly inputName = 'input',
  ) {
    this.push({
      name: inputName,
      block: 'input',
      op: { kind: 'input' },
      inputs: [],
      shape: [inputSize, inputSize, channels],
      params: 0,
      macs: 0,
    });
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

  /** Adds a node of any op kind: its shape and parameters come from the op's definition. */
  op(name: string, op: Exclude<Op, { kind: 'input' }>, inputs: string[]): string {
    const def = opDef(op),
      shapes = inputs.map((i) => this.shape(i));
    const { shape, params } = def.infer(op, shapes);
    return this.push({ name, block: this.block, op, inputs, shape, params, macs: def.macs(op, shapes, shape) });
  }

  conv(name: string, x: string, filters: number, o: ConvOpts): string {
    return this.op(
      name,
      {
        kind: 'conv',
        filters,
        kernel: pair(o.kernel),
        strides: pair(o.strides ?? 1),
        padding: toPad(o.padding),
        bias: o.bias ?? true,
      },
      [x],
    );
  }

  depthwise(name: string, x: string, o: ConvOpts): string {
    return this.op(
      name,
      {
        kind: 'depthwise',
        kernel: pair(o.kernel),
        strides: pair(o.strides ?? 1),
        padding: toPad(o.padding),
        bias: o.bias ?? false,
      },
      [x],
    );
  }

  bn(name: string, x: string, epsilon: number, momentum: number): string {
    return this.op(name, { kind: 'bn', epsilon, momentum }, [x]);
  }

  relu(name: string, x: string, six = false): string {
    return this.op(name, { kind: six ? 'relu6' : 'relu' }, [x]);
  }

  zeropad(name: string, x: string, padding: readonly [number, number, number, number]): string {
    return this.op(name, { kind: 'zeropad', padding }, [x]);
  }

  maxpool(
    name: string,
    x: string,
    pool: number | Pair,
    strides: number | Pair,
    padding: Pad | number = 'valid',
    ceil = false,
  ): string {
    return this.op(name, { kind: 'maxpool', pool: pair(pool), strides: pair(strides), padding: toPad(padding), ceil }, [
      x,
    ]);
  }

  avgpool(
    name: string,
    x: string,
    pool: number | Pair,
    strides: number | Pair,
    padding: Pad | number = 'valid',
    countIncludePad = true,
  ): string {
    return this.op(
      name,
      { kind: 'avgpool', pool: pair(pool), strides: pair(strides), padding: toPad(padding), countIncludePad },
      [x],
    );
  }

  adaptiveAvg(name: string, x: string, size: number): string {
    return this.op(name, { kind: 'adaptiveavg', size }, [x]);
  }

  gap(name: string, x: string): string {
    return this.op(name, { kind: 'gap' }, [x]);
  }

  flatten(name: string, x: string, order: 'chw' | 'hwc' = 'chw'): string {
    return this.op(name, { kind: 'flatten', order }, [x]);
  }

  dense(name: string, x: string, units: number, bias = true): string {
    return this.op(name, { kind: 'dense', units, bias }, [x]);
  }

  dropout(name: string, x: string, rate: number): string {
    return this.op(name, { kind: 'dropout', rate }, [x]);
  }

  sum(name: string, a: string, b: string): string {
    return this.op(name, { kind: 'add' }, [a, b]);
  }

  concat(name: string, xs: string[]): string {
    return this.op(name, { kind: 'concat' }, xs);
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
