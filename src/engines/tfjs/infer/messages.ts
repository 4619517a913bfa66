import type { Program } from './program.js';

// What the pool and its workers say to each other.

export type Request =
  | { readonly type: 'load'; readonly id: number; readonly program: Program }
  | { readonly type: 'run'; readonly id: number; readonly x: Float32Array; readonly shape: readonly number[] };

export type Reply =
  | { readonly type: 'loaded'; readonly id: number }
  | { readonly type: 'result'; readonly id: number; readonly y: Float32Array; readonly shape: readonly number[] }
  | { readonly type: 'error'; readonly id: number; readonly message: string };
