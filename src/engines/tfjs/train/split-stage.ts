import { tf } from '../tf.js';
import { ancestors, type Graph, type Node } from '../../../zoo/graph.js';
import type { ModelInfo } from '../../../zoo/catalog.js';
import { reapply } from '../tf-layers/build.js';
import { splitBoundary } from '../../../zoo/cut.js';
import { compile, type Program } from '../infer/program.js';
import type { Forward } from '../infer/engine.js';
import type { Network } from './network.js';
import { through, type BatchSource, type XY } from './batch-sources.js';
import type { Sampler } from '../../../runtime/sampler.js';

// A stage that fine-tunes the upper layers splits the network where its frozen part ends. Frozen
// layers need no gradients, only their forward pass: that runs as an inference program (folded,
// in worker threads, a few batches ahead), and the training loop trains the rest, a model made of
// the network's own layers, on its output.

export interface Split {
  /** The frozen node whose output the trained part starts from. */
  readonly boundary: Node;
  readonly prefix: Program;
  /**
   * From the boundary's output to the head's: the network's own layers, so its own weights. Dispose it after the stage.
   */
  readonly top: tf.LayersModel;
}

/** The split for the first `frozen` layers of the catalog's order, or null when there is none to make. */
export function splitFrozen(net: Network, graph: Graph, info: ModelInfo, frozen: number): Split | null {
  const boundary = splitBoundary(graph, info.featureLayer, info.layers, frozen);
  if (!boundary) return null;
  const nodes = ancestors(graph, info.featureLayer);
  const cold = new Set([graph.input, ...info.layers.slice(0, frozen).map((l) => l.name)]);
  const input = tf.input({ shape: [...boundary.shape] });
  const out = new Map<string, tf.SymbolicTensor>([[boundary.name, input]]);
  for (const n of nodes) {
    if (!cold.has(n.name))
      out.set(
        n.name,
        reapply(
          net.backbone,
          n,
          n.inputs.map((i) => out.get(i)!),
        ),
      );
  }
  // The head's layers one by one, not the head model as a layer: disposing `top` then only drops
  // its hold on each layer, and never disposes the head model the network still uses.
  let x = out.get(info.featureLayer)!;
  for (const l of net.head.layers) if (l.getClassName() !== 'InputLayer') x = l.apply(x) as tf.SymbolicTensor;
  const top = tf.model({ inputs: input, outputs: x, name: 'trained' });
  return { boundary, prefix: compile(graph, boundary.name, net.backbone), top };
}

/** Images through the frozen part: batches of boundary activations, computed a few batches ahead. */
export class PrefixSource implements BatchSource {
  constructor(
    readonly images: BatchSource,
    readonly prefix: () => Promise<Forward>,
  ) {}
  get size(): number {
    return this.images.size;
  }
  get decodes(): boolean {
    return this.images.decodes;
  }
  async *batches(batch: number, train: boolean, epochSeed: number, sampler?: Sampler): AsyncGenerator<XY> {
    yield* through(this.images.batches(batch, train, epochSeed, sampler), await this.prefix());
  }
}
