// The few things of Node's `process` the compiler reads (the home folder, the working folder).
export const process = { env: {}, cwd: () => '/playground', platform: 'browser', versions: {} };

// Buffer, for libraries that name it where the playground never reaches (reading CSV labels).
class PlaygroundBuffer extends Uint8Array {
  static from(x) {
    return typeof x === 'string' ? new TextEncoder().encode(x) : Uint8Array.from(x);
  }
  static alloc(n) {
    return new Uint8Array(n);
  }
  static allocUnsafe(n) {
    return new Uint8Array(n);
  }
  static isBuffer() {
    return false;
  }
}
export { PlaygroundBuffer as Buffer };
