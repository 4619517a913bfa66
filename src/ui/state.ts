import {
  dispatch,
  type EpochMetrics,
  type EventOf,
  type EventTable,
  type Evaluation,
  type RunEvent,
} from '../runtime/events.js';
import { printable } from '../printable.js';

// The terminal view's state, built only from the runtime's events by one pure reducer.

export interface Progress {
  readonly label: string;
  readonly done: number;
  readonly total: number | null;
  readonly startedAt: number;
  readonly updatedAt: number;
}

export interface EpochRow {
  readonly stage: number;
  readonly epoch: number;
  readonly epochs: number;
  readonly metrics: EpochMetrics;
  readonly lr: number;
  readonly seconds: number;
  readonly best: boolean;
}

export interface ViewState {
  readonly recipe: string;
  readonly network: string;
  readonly weights: string;
  readonly backend: string;
  readonly runDir: string;
  readonly stages: readonly {
    readonly index: number;
    readonly epochs: number;
    readonly status: 'waiting' | 'running' | 'done';
    readonly cached: boolean | null;
  }[];
  readonly download: Progress | null;
  readonly features: Progress | null;
  readonly batches: Progress | null;
  readonly epochsProgress: Progress | null;
  readonly epochs: readonly EpochRow[];
  readonly warnings: readonly string[];
  readonly evaluation: Evaluation | null;
  readonly finished: {
    readonly modelDir: string;
    readonly runDir: string;
    readonly seconds: number;
    readonly best: EventOf<'finished'>['best'];
    readonly exported?: readonly string[];
  } | null;
  readonly interrupted: boolean;
  readonly error: string | null;
}

export const initialState: ViewState = {
  recipe: '',
  network: '',
  weights: '',
  backend: '',
  runDir: '',
  stages: [],
  download: null,
  features: null,
  batches: null,
  epochsProgress: null,
  epochs: [],
  warnings: [],
  evaluation: null,
  finished: null,
  interrupted: false,
  error: null,
};

const progress = (prev: Progress | null, label: string, done: number, total: number | null, now: number): Progress =>
  prev && prev.label === label && done >= prev.done
    ? { ...prev, done, total, updatedAt: now }
    : { label, done, total, startedAt: now, updatedAt: now };

const planState = (s: ViewState, e: EventOf<'plan'>): ViewState => {
  const p = e.plan,
    w = p.model.weights;
  return {
    ...s,
    recipe: printable(p.recipe.name),
    network: `${p.model.name}${p.model.width !== null ? ` width ${p.model.width}` : ''} · ${p.model.inputSize}px`,
    weights:
      w.kind === 'imagenet'
        ? 'ImageNet'
        : w.kind === 'none'
          ? 'none (from scratch)'
          : w.kind === 'url'
            ? w.url
            : w.path,
    backend: e.backend,
    runDir: e.runDir,
    stages: p.stages.map((st) => ({
      index: st.index,
      epochs: st.epochs,
      status: 'waiting',
      cached: st.featureCache.use,
    })),
  };
};

const weightsState = (s: ViewState, e: EventOf<'weights'>, now: number): ViewState => {
  if (e.phase === 'downloading')
    return { ...s, download: progress(s.download, e.url ?? 'weights', e.received ?? 0, e.total ?? null, now) };
  if (e.phase === 'ready')
    return {
      ...s,
      download: null,
      weights: `${s.weights} (${e.from === 'weights-dir' ? '$TLR_WEIGHTS_DIR' : e.from})`,
    };
  return s;
};

const featuresState = (s: ViewState, e: EventOf<'features'>, now: number): ViewState => {
  if (e.phase !== 'progress') return { ...s, features: null };
  return {
    ...s,
    features: progress(
      s.features,
      `features ${e.split}${e.workers ? ` · ${e.workers} workers` : ''}`,
      e.done ?? 0,
      e.total ?? null,
      now,
    ),
  };
};

const stageStartState = (s: ViewState, e: EventOf<'stage-start'>, now: number): ViewState => ({
  ...s,
  stages: s.stages.map((st) =>
    st.index < e.stage
      ? { ...st, status: 'done' }
      : st.index === e.stage
        ? { ...st, status: 'running', cached: e.cached }
        : st,
  ),
  epochsProgress: { label: `stage ${e.stage} epochs`, done: 0, total: e.epochs, startedAt: now, updatedAt: now },
  batches: null,
  backend: e.backend,
});

const epochState = (s: ViewState, e: EventOf<'epoch'>, now: number): ViewState => {
  const row: EpochRow = {
    stage: e.stage,
    epoch: e.epoch,
    epochs: e.epochs,
    metrics: e.metrics,
    lr: e.lr,
    seconds: e.seconds,
    best: e.best,
  };
  const ep = s.epochsProgress;
  return {
    ...s,
    epochs: [...s.epochs.map((r) => (e.best ? { ...r, best: false } : r)), row],
    epochsProgress: ep ? { ...ep, done: e.epoch, updatedAt: now } : ep,
  };
};

const warn = (s: ViewState, message: string): ViewState => ({ ...s, warnings: [...s.warnings, message] });

/** How each event changes the view, at time `now`. */
const reducers = (s: ViewState, now: number): EventTable<ViewState> => ({
  plan: (e) => planState(s, e),
  weights: (e) => weightsState(s, e, now),
  data: () => s,
  features: (e) => featuresState(s, e, now),
  'stage-start': (e) => stageStartState(s, e, now),
  batch: (e) => ({ ...s, batches: progress(s.batches, `stage ${e.stage} epoch ${e.epoch}`, e.batch, e.batches, now) }),
  epoch: (e) => epochState(s, e, now),
  checkpoint: () => s,
  'lr-found': (e) => warn(s, `stage ${e.stage}: lr auto chose ${e.lr.toPrecision(2)} (${e.rule})`),
  'early-stop': (e) =>
    warn(
      s,
      `stage ${e.stage}: early stop after epoch ${e.epoch} (${e.metric} did not improve for ${e.patience} epochs)`,
    ),
  warning: (e) => warn(s, e.message),
  evaluation: (e) => ({ ...s, evaluation: e.evaluation, batches: null }),
  interrupted: () => ({ ...s, interrupted: true, batches: null }),
  error: (e) => ({ ...s, error: e.message, batches: null, features: null, download: null }),
  finished: (e) => ({
    ...s,
    stages: s.stages.map((st) => ({ ...st, status: 'done' })),
    finished: { modelDir: e.modelDir, runDir: e.runDir, seconds: e.seconds, best: e.best, exported: e.exported },
    batches: null,
    epochsProgress: null,
  }),
});

/** The view state after one event (pure: `now` is passed in). */
export function reduce(s: ViewState, e: RunEvent, now: number = Date.now()): ViewState {
  return dispatch(reducers(s, now), e);
}

/** items per second and seconds left, from a progress's own timing. */
export function rateAndEta(p: Progress, now: number = Date.now()): { rate: number | null; eta: number | null } {
  const secs = (now - p.startedAt) / 1000;
  if (secs <= 0 || p.done <= 0) return { rate: null, eta: null };
  const rate = p.done / secs;
  return { rate, eta: p.total ? Math.max(0, (p.total - p.done) / rate) : null };
}
