import { useEffect, useReducer } from 'react';
import { Box, Static, Text, useInput } from 'ink';
import type { Events, RunEvent } from '../runtime/events.js';
import { initialState, reduce, type ViewState } from './state.js';
import { Header, Stages } from './components/header.js';
import { ProgressBar } from './components/progress-bar.js';
import { Metrics } from './components/metrics.js';
import { Summary } from './components/summary.js';
import { color } from './theme.js';
import { SweepLine, type SweepProgress } from './components/sweep-progress.js';

// The live view of one run. It subscribes to the run's events and nothing else.

/** The body of the live view for a view state (tested with ink-testing-library frames). */
export function RunBody({ s, compact = false }: { s: ViewState; compact?: boolean }) {
  // Compact (watch mode with errors to show): a finished run shrinks to its outcome line, so what
  // comes below it stays on a short terminal.
  if (compact && s.finished) {
    return (
      <Text color={color('gray')}>
        run finished: best {s.finished.best.metric}{' '}
        {typeof s.finished.best.value === 'number' ? s.finished.best.value.toFixed(4) : 'n/a'} · model{' '}
        {s.finished.modelDir}
      </Text>
    );
  }
  return (
    <Box flexDirection="column">
      <Static items={s.warnings.map((w, i) => ({ w, i }))}>
        {({ w, i }) => (
          <Text key={i} color={color('yellow')}>
            warning: {w}
          </Text>
        )}
      </Static>
      {s.recipe && <Header s={s} />}
      <Stages s={s} />
      {s.download && <ProgressBar p={s.download} unit="B" />}
      {s.features && <ProgressBar p={s.features} unit="img" />}
      {s.epochsProgress && <ProgressBar p={s.epochsProgress} unit="epochs" />}
      {s.batches && <ProgressBar p={s.batches} unit="batches" />}
      <Metrics rows={s.epochs} />
      <Summary s={s} />
    </Box>
  );
}

/** The live view of a run: subscribes to its events; `q` or Ctrl-C calls onStop. */
export function RunView({
  events,
  onStop,
  compact,
  sweep,
}: {
  events: Events;
  onStop?: () => void;
  compact?: boolean;
  /** A sweep's progress, above the variant's run. */
  sweep?: SweepProgress;
}) {
  const [s, dispatch] = useReducer((st: ViewState, e: RunEvent) => reduce(st, e), initialState);
  useEffect(() => events.on(dispatch), [events]);
  useInput(
    (input, key) => {
      if ((key.ctrl && input === 'c') || input === 'q') onStop?.();
    },
    { isActive: !!onStop && !!process.stdin.isTTY },
  );
  if (!sweep) return <RunBody s={s} compact={compact} />;
  return (
    <Box flexDirection="column">
      <SweepLine p={sweep} />
      <RunBody s={s} compact={compact} />
    </Box>
  );
}
