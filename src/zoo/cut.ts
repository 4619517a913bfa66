import { ancestors, type Graph, type Node } from './graph.js';

// Where a network is cut when its first layers are frozen: the one frozen node whose output feeds
// trained layers. Shared by the plan (which says what a stage caches) and the runtime (which cuts).

/**
 * The frozen node the trained part starts from, when the first `frozen` of `layers` are frozen;
 * null when nothing or everything is frozen, or frozen outputs feed trained layers in more than
 * one place (Inception's branches, say): then the whole network runs every batch.
 */
export function splitBoundary(
  graph: Graph,
  featureLayer: string,
  layers: readonly { readonly name: string }[],
  frozen: number,
): Node | null {
  if (frozen <= 0 || frozen >= layers.length) return null;
  const nodes = ancestors(graph, featureLayer);
  const cold = new Set([graph.input, ...layers.slice(0, frozen).map((l) => l.name)]);
  const crossing = nodes.filter(
    (n) => cold.has(n.name) && nodes.some((c) => !cold.has(c.name) && c.inputs.includes(n.name)),
  );
  return crossing.length === 1 && crossing[0]!.op.kind !== 'input' ? crossing[0]! : null;
}
