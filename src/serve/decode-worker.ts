import { parentPort } from 'node:worker_threads';
import { decodeRgb, ImageError, normalize } from '../runtime/images/image.js';
import { resizerOf } from '../runtime/images/resize.js';

// A decoding thread of `tlr serve` (decode-pool.ts): an image's bytes to the model's input floats, as `tlr predict`
// decodes them, off the thread that answers HTTP.

export interface DecodeRequest {
  readonly id: number;
  readonly bytes: Uint8Array;
  readonly size: number;
  readonly maxPixels: number;
  readonly pre: {
    readonly mean: readonly number[];
    readonly std: readonly number[];
    readonly resize?: string | undefined;
  };
}

export type DecodeReply =
  | { readonly id: number; readonly x: Float32Array }
  | { readonly id: number; readonly error: string; readonly image: boolean };

parentPort!.on('message', async (r: DecodeRequest) => {
  try {
    const rgb = await decodeRgb(
      Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength),
      r.size,
      'the request body',
      r.maxPixels,
      resizerOf(r.pre),
    );
    const x = normalize(rgb, r.pre);
    parentPort!.postMessage({ id: r.id, x } satisfies DecodeReply, [x.buffer as ArrayBuffer]);
  } catch (e) {
    const image = e instanceof ImageError;
    parentPort!.postMessage({ id: r.id, error: (e as Error).message, image } satisfies DecodeReply);
  }
});
