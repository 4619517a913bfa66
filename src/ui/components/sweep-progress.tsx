import { Box, Text } from 'ink';
import { printable } from '../../printable.js';
import { color } from '../theme.js';

/** Where a sweep stands, shown above the current variant's run. */
export interface SweepProgress {
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  /** The variant running now: its place among those left to run, id and choices. */
  readonly current: { readonly index: number; readonly of: number; readonly id: string; readonly name: string };
  readonly best: { readonly id: string; readonly name: string; readonly accuracy: number } | null;
  /** From the finished variants' times, or the calibrated estimates before; null when neither is known. */
  readonly secondsLeft: number | null;
}

const about = (s: number): string =>
  s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;

/** One box: runs done of the sweep, failures, the best so far, time left, and the variant running. */
export function SweepLine({ p }: { p: SweepProgress }) {
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text>
        <Text bold color={color('green')}>
          sweep {p.done}/{p.total} done
        </Text>
        {p.failed ? <Text color={color('red')}> · {p.failed} failed</Text> : null}
        {p.best ? (
          <Text>
            {' '}
            · best {p.best.id} ({printable(p.best.name)}) {(p.best.accuracy * 100).toFixed(1)}%
          </Text>
        ) : null}
        <Text>
          {' '}
          ·{' '}
          {p.secondsLeft === null
            ? 'time left: after the first variant (not calibrated: tlr doctor --calibrate)'
            : `about ${about(p.secondsLeft)} left`}
        </Text>
      </Text>
      <Text>
        now {p.current.index} of {p.current.of}: {p.current.id} ({printable(p.current.name)})
      </Text>
    </Box>
  );
}
