// The framing of tlr's binary cache files (the stat index, kept folder listings): a magic of 8
// characters · u32 length · a JSON header · u32 length · names, each ended by a NUL (a file name
// cannot hold one) · the rest, the file's own columns. A million names split from one string
// where JSON would build a million objects.

const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
};

/** A framed file's bytes. */
export function encodeFramed(
  magic: string,
  head: object,
  names: readonly string[],
  rest: readonly Uint8Array[],
): Buffer {
  const h = Buffer.from(JSON.stringify(head));
  const text = Buffer.from(names.map((n) => `${n}\0`).join(''));
  return Buffer.concat([Buffer.from(magic, 'latin1'), u32(h.length), h, u32(text.length), text, ...rest]);
}

/** A framed file's parts; null when its magic is another's or it is cut short or damaged. */
export function decodeFramed(
  buf: Buffer,
  magic: string,
): { head: Record<string, unknown>; names: string[]; rest: Buffer } | null {
  try {
    if (buf.toString('latin1', 0, 8) !== magic) return null;
    const headEnd = 12 + buf.readUInt32LE(8);
    const head = JSON.parse(buf.toString('utf8', 12, headEnd));
    const namesEnd = headEnd + 4 + buf.readUInt32LE(headEnd);
    if (namesEnd > buf.length || head === null || typeof head !== 'object') return null;
    const text = buf.toString('utf8', headEnd + 4, namesEnd);
    return { head, names: text ? text.slice(0, -1).split('\0') : [], rest: buf.subarray(namesEnd) };
  } catch {
    return null;
  }
}
