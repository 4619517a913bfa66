// Positions and spans in a recipe's text. Lines and columns are 1-based; `end` is exclusive.

export interface Position {
  readonly offset: number;
  readonly line: number;
  readonly column: number;
}

export interface Span {
  readonly start: Position;
  readonly end: Position;
}

/** Maps offsets to lines and columns for one text. */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') this.starts.push(i + 1);
  }

  position(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0,
      hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= o) lo = mid;
      else hi = mid - 1;
    }
    return { offset: o, line: lo + 1, column: o - this.starts[lo]! + 1 };
  }

  span(start: number, end: number): Span {
    return { start: this.position(start), end: this.position(Math.max(start, end)) };
  }

  /** The text of line `line` (1-based), without its newline. */
  lineText(line: number): string {
    const s = this.starts[line - 1];
    if (s === undefined) return '';
    const e = this.starts[line] ?? this.text.length + 1;
    return this.text.slice(s, e - 1).replace(/\r$/, '');
  }

  get lineCount(): number {
    return this.starts.length;
  }
}

/** The span from the start of `a` to the end of `b`. */
export const joinSpans = (a: Span, b: Span): Span => ({ start: a.start, end: b.end });
