import type { tf } from '../tf.js';
import { describe, graphOf } from '../../../zoo/catalog.js';
import type { PlanHeadLayer } from '../../../contracts/plan.js';
import { HEAD_KINDS, HEAD_LAYERS } from '../../../zoo/head-layers.js';
import type { ModelMeta } from '../model-files.js';
import { compile, type Program } from './program.js';

// A model a run saved (backbone layers named as in the zoo graph, then the nested 'head' model) as
// an inference program, so `tlr eval` gets the same speed as a run's own evaluation.

/** The head's layers as the plan would list them, read back from the saved head model. */
function headLayers(head: tf.LayersModel): PlanHeadLayer[] {
  return head.layers
    .filter((l) => l.getClassName() !== 'InputLayer')
    .map((l): PlanHeadLayer => {
      const def = HEAD_KINDS.map((k) => HEAD_LAYERS[k]).find((d) => d.tfClass === l.getClassName());
      if (!def) throw new Error(`the head has a ${l.getClassName()} layer, which tlr does not make`);
      return def.fromConfig(l.getConfig());
    });
}

/** The saved model's program; throws when the model is not the shape tlr saves. */
export function savedProgram(model: tf.LayersModel, meta: ModelMeta): Program {
  const info = describe(meta.network.name, meta.network.width, meta.preprocessing.inputSize);
  const graph = graphOf(meta.network.name, info.width, info.inputSize);
  const head = model.getLayer('head') as unknown as tf.LayersModel;
  if (!('layers' in head)) throw new Error("the model has no 'head' model");
  // A folder exported with --softmax has a layer after the head: the program would leave it out.
  if (model.layers[model.layers.length - 1] !== (head as unknown as tf.layers.Layer))
    throw new Error('the model has layers after its head');
  return compile(graph, info.featureLayer, model, { layers: headLayers(head), model: head });
}
