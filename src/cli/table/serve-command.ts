import { common, str, type CommandRow } from './row.js';

// `tlr serve`: its row, beside the commands that run models (run-commands.ts).

export const SERVE: CommandRow = {
  name: 'serve',
  summary: 'serve model folders over HTTP (Open Inference Protocol v2)',
  usage: ['[NAME=]MODEL_DIR|MODEL.onnx... [--host H] [--port P] [--max-batch N] [--max-delay MS]'],
  about: `Serves saved models (RUN_DIR/model, a folder tlr export --format tfjs wrote, or an ONNX file tlr export
wrote) until SIGTERM or Ctrl-C, which stop taking requests and answer those in flight. Each model is named
NAME, else by its run's recipe, else by its folder or file. Routes (Open Inference Protocol v2, REST): GET
/v2/health/live, /v2/health/ready, /v2/models/NAME, /v2/models/NAME/ready; POST /v2/models/NAME/infer with
one FP32 tensor "input" [n, H, W, 3] (preprocessed as tlr export documents; JSON numbers, or bytes after
the JSON: the binary tensor data extension), answered with "probabilities" [n, labels]; POST
/v2/models/NAME/classify[?top=K] with an image's bytes, answered with its top labels (and a multi-label
model's labels at their thresholds), preprocessed as tlr predict does; GET /metrics for Prometheus.
Requests that arrive together run as one batch; past --max-concurrency they wait their turn. stdout is the
access log, one JSON object per answer. docs/serving.md has the details and measurements.`,
  options: () => ({
    host: { type: 'string', value: 'HOST', help: 'the address to listen on (default 127.0.0.1: this machine only)' },
    port: { type: 'string', value: 'PORT', help: 'the port (default 8080; 0: any free port)' },
    'max-batch': { type: 'string', value: 'N', help: 'the most images one batch runs (default 32; 1: no batching)' },
    'max-delay': {
      type: 'string',
      value: 'MS',
      help: 'how long a request that finds the model idle waits for others (default 0)',
    },
    'max-concurrency': {
      type: 'string',
      value: 'N',
      help: 'inference requests answered at once; more wait for a place (default 64)',
    },
    'max-queue': {
      type: 'string',
      value: 'N',
      help: 'inference requests that wait for a place, in arrival order; more get 503 (default 1024)',
    },
    'max-body': { type: 'string', value: 'MB', help: 'the largest request body (default 20); larger ones get 413' },
    'max-pixels': {
      type: 'string',
      value: 'N',
      help: 'the largest image (width × height) classify decodes (default 40000000)',
    },
    'decode-threads': {
      type: 'string',
      value: 'N',
      help: "worker threads that decode classify's images (default 0: the thread that answers HTTP)",
    },
    timeout: {
      type: 'string',
      value: 'SECONDS',
      help: 'to receive a request, and to answer it (default 30; then 504)',
    },
    'access-log': {
      type: 'string',
      value: 'FILE',
      help: 'append the access log to FILE instead of stdout',
      complete: 'file',
    },
    backend: common.backend,
  }),
  notes: 'Exit status 0 after a signal has drained the server; 2 for a bad flag or model folder.',
  operands: 'dirs',
  run: async (p, v, io) =>
    (await import('../commands/serve.js')).serveCommand(
      p,
      {
        host: str(v['host']),
        port: str(v['port']),
        maxBatch: str(v['max-batch']),
        maxDelay: str(v['max-delay']),
        maxConcurrency: str(v['max-concurrency']),
        maxQueue: str(v['max-queue']),
        maxBody: str(v['max-body']),
        maxPixels: str(v['max-pixels']),
        timeout: str(v['timeout']),
        decodeThreads: str(v['decode-threads']),
        accessLog: str(v['access-log']),
        backend: str(v['backend']),
      },
      io,
    ),
};
