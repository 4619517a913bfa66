import { Counter, Gauge, Histogram, Registry } from 'prom-client';

// What `tlr serve` counts, for Prometheus (GET /metrics, prom-client's text format): requests by route and status,
// their latency, the batches the model ran (their sizes and seconds), the requests in flight, and those waiting for
// a place.

export class ServeMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'tlr_requests_total',
    help: 'HTTP requests answered, by route and status code',
    labelNames: ['route', 'code'],
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'tlr_request_seconds',
    help: 'Seconds from a request arriving to its answer, by route',
    labelNames: ['route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly batchSize = new Histogram({
    name: 'tlr_batch_images',
    help: 'Images in each batch the model ran',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [this.registry],
  });
  private readonly batchSeconds = new Histogram({
    name: 'tlr_batch_seconds',
    help: 'Seconds each batch took in the model',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  /** `counts` gives the requests being answered and waiting (the admission queue's own), read at each scrape. */
  constructor(counts: () => { inFlight: number; waiting: number }) {
    new Gauge({
      name: 'tlr_requests_in_flight',
      help: 'Inference requests being answered',
      registers: [this.registry],
      collect() {
        this.set(counts().inFlight);
      },
    });
    new Gauge({
      name: 'tlr_requests_waiting',
      help: 'Inference requests waiting for a place (--max-concurrency are being answered)',
      registers: [this.registry],
      collect() {
        this.set(counts().waiting);
      },
    });
  }

  answered(route: string, code: number, seconds: number): void {
    this.requests.inc({ route, code: String(code) });
    this.latency.observe({ route }, seconds);
  }

  batch(images: number, seconds: number): void {
    this.batchSize.observe(images);
    this.batchSeconds.observe(seconds);
  }
}
