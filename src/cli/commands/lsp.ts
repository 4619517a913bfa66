import type { Output } from '../io.js';
import type { WeightsWhere } from '../../lsp/services.js';
import { locateWeights } from '../../runtime/weights/locate.js';

/** Where ImageNet weights are here, in the words `tlr plan` uses. */
function weightsWhere(w: Parameters<WeightsWhere>[0]): string {
  const at = locateWeights({ kind: 'imagenet', ...w });
  return at.where === 'weights-dir'
    ? 'in $TLR_WEIGHTS_DIR'
    : at.where === 'cache'
      ? 'cached here'
      : 'not here yet: tlr run downloads them, tlr fetch gets them now';
}

/** `tlr lsp`: serves until the editor says exit. */
export async function lspCommand(_args: readonly string[], _flags: object, _io: Output): Promise<number> {
  const { startServer } = await import('../../lsp/server.js');
  const { setWeightsWhere } = await import('../../lsp/services.js');
  setWeightsWhere(weightsWhere);
  const connection = startServer();
  return new Promise<number>((resolve) => connection.onExit(() => resolve(0)));
}
