import { describe, expect, it } from 'vitest';
import { Admission } from '../../src/serve/admission.js';

// The serve admission queue: places up to --max-concurrency, then a queue of --max-queue in arrival order, then
// 'full'; a place freed goes to the longest waiter; a waiter that leaves frees its place in the queue, or gives
// back a place handed to it just before.

describe('Admission', () => {
  it('gives places, then queues in arrival order, then is full', async () => {
    const a = new Admission(2, 2);
    expect([a.enter(), a.enter()]).toEqual([null, null]);
    const w1 = a.enter(),
      w2 = a.enter();
    expect(a.enter()).toBe('full');
    expect([a.inFlight, a.waiting]).toEqual([2, 2]);
    if (!w1 || w1 === 'full' || !w2 || w2 === 'full') throw new Error('expected tickets');
    const order: number[] = [];
    void w1.ready.then(() => order.push(1));
    void w2.ready.then(() => order.push(2));
    a.leave();
    await Promise.resolve();
    expect([order, a.inFlight, a.waiting]).toEqual([[1], 2, 1]);
    a.leave();
    await Promise.resolve();
    expect(order).toEqual([1, 2]);
    a.leave();
    a.leave();
    expect([a.inFlight, a.waiting]).toEqual([0, 0]);
  });

  it('a waiter that withdraws leaves the queue, or gives back the place handed to it', () => {
    const a = new Admission(1, 2);
    a.enter();
    const w1 = a.enter(),
      w2 = a.enter();
    if (!w1 || w1 === 'full' || !w2 || w2 === 'full') throw new Error('expected tickets');
    a.withdraw(w1.ticket);
    expect([a.inFlight, a.waiting]).toEqual([1, 1]);
    a.leave(); // handed to w2 ...
    expect(w2.ticket.given).toBe(true);
    a.withdraw(w2.ticket); // ... which had just timed out: the place is free again
    expect([a.inFlight, a.waiting]).toEqual([0, 0]);
    expect(a.enter()).toBe(null);
  });

  it('a queue of 0 refuses at once past the concurrency', () => {
    const a = new Admission(1, 0);
    expect(a.enter()).toBe(null);
    expect(a.enter()).toBe('full');
  });
});
