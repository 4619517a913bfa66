import { Box, Text } from 'ink';
import { formatLr } from '../../text/numbers.js';
import type { EpochRow } from '../state.js';
import { color } from '../theme.js';

const BARS = '▁▂▃▄▅▆▇█';

/** One epoch's row, in the header's columns (spacing is part of the table). */
const row = (r: EpochRow): string => {
  const m = r.metrics;
  const cells = [f(m.loss), f(m.accuracy), f(m.val_loss), f(m.val_accuracy), formatLr(r.lr).padEnd(7)].join('   ');
  const at = `${String(r.stage).padStart(5)} ${`${r.epoch}/${r.epochs}`.padStart(5)}`;
  return `${at}   ${cells}  ${r.seconds.toFixed(1).padStart(5)}${r.best ? '  ★ best' : ''}`;
};

/** A one-line chart of a series, scaled to its own range. */
export function sparkline(values: readonly (number | null)[]): string {
  const xs = values.map((v) => v ?? Number.NaN);
  const ys = xs.filter(Number.isFinite);
  if (!ys.length) return '';
  const lo = Math.min(...ys),
    hi = Math.max(...ys);
  return xs
    .map((x) => (Number.isFinite(x) ? BARS[hi === lo ? 3 : Math.round(((x - lo) / (hi - lo)) * 7)]! : ' '))
    .join('');
}

const f = (v: number | null) => (v !== null && Number.isFinite(v) ? v.toFixed(4) : '  n/a ');

/** The last epochs as a table, the best marked, with sparklines. */
export function Metrics({ rows, show = 8 }: { rows: readonly EpochRow[]; show?: number }) {
  if (!rows.length) return null;
  const visible = rows.slice(-show);
  return (
    <Box flexDirection="column">
      <Text color={color('gray')}>{'stage epoch   loss     acc      val_loss val_acc  lr       secs'}</Text>
      {rows.length > show && <Text color={color('gray')}>… {rows.length - show} earlier epochs</Text>}
      {visible.map((r) => (
        <Text key={`${r.stage}.${r.epoch}`} color={color(r.best ? 'green' : 'white')}>
          {row(r)}
        </Text>
      ))}
      <Text>
        {`loss ${sparkline(rows.map((r) => r.metrics.loss))}   val_acc ` +
          `${sparkline(rows.map((r) => r.metrics.val_accuracy))}`}
      </Text>
    </Box>
  );
}
