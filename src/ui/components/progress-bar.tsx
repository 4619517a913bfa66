import { Box, Text } from 'ink';
import { rateAndEta, type Progress } from '../state.js';
import { color } from '../theme.js';

const time = (s: number) =>
  s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`
      : `${Math.round(s)}s`;

/** A progress bar with counts, rate and ETA. */
export function ProgressBar({ p, unit, now, width = 28 }: { p: Progress; unit: string; now?: number; width?: number }) {
  const frac = p.total ? Math.min(1, p.done / p.total) : 0;
  const full = Math.round(frac * width);
  const { rate, eta } = rateAndEta(p, now);
  return (
    <Box>
      <Text>{p.label.padEnd(22)} </Text>
      <Text color={color('cyan')}>{'█'.repeat(full)}</Text>
      <Text color={color('gray')}>{'░'.repeat(width - full)}</Text>
      <Text>
        {' '}
        {p.done}
        {p.total ? `/${p.total}` : ''} {unit}
        {rate !== null ? ` · ${rate >= 10 ? rate.toFixed(0) : rate.toFixed(1)} ${unit}/s` : ''}
        {eta !== null ? ` · ETA ${time(eta)}` : ''}
      </Text>
    </Box>
  );
}

export { time };
