// Which inference requests are answered now, which wait, and which are turned away. `--max-concurrency` requests
// are answered at once (each holds its body and pixels in memory); up to `--max-queue` more wait for a place in
// arrival order, their bodies left unread in the socket, so a burst costs a socket each rather than memory; past
// both, a request is refused at once. A place freed is handed straight to the request that has waited longest.

/** A request's place in the queue: `given` once a place is handed to it. */
export interface Ticket {
  given: boolean;
  go: () => void;
}

export class Admission {
  private answering = 0;
  private readonly queue: Ticket[] = [];

  constructor(
    private readonly maxConcurrency: number,
    private readonly maxQueue: number,
  ) {}

  get inFlight(): number {
    return this.answering;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /**
   * A place now (null), or a ticket whose `ready` resolves when one is handed to it; 'full' when every place is
   * taken and the queue is full.
   */
  enter(): { ticket: Ticket; ready: Promise<void> } | null | 'full' {
    if (this.answering < this.maxConcurrency) {
      this.answering++;
      return null;
    }
    if (this.queue.length >= this.maxQueue) return 'full';
    let go = () => {};
    const ready = new Promise<void>((resolve) => (go = resolve));
    const ticket: Ticket = {
      given: false,
      go: () => {
        ticket.given = true;
        go();
      },
    };
    this.queue.push(ticket);
    return { ticket, ready };
  }

  /** Gives a place back: to the request that has waited longest, else to no one. */
  leave(): void {
    const next = this.queue.shift();
    if (next) next.go();
    else this.answering--;
  }

  /**
   * A request that stopped waiting (its client went, or its time ran out): out of the queue; a place handed to it
   * just before is given back.
   */
  withdraw(t: Ticket): void {
    if (t.given) this.leave();
    else {
      const i = this.queue.indexOf(t);
      if (i >= 0) this.queue.splice(i, 1);
    }
  }
}
