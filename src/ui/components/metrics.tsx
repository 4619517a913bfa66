import { Box, Text } from 'ink';
import { formatLr } from '../../text/numbers.js';
import type { EpochRow } from '../state.js';
import { color } from '../theme.js';

const BARS = '▁▂▃▄▅▆▇█';

/** One epoch's row, in the header's columns (spacing is part of the table); `map`: with the validation mAP. */
const row = (r: EpochRow, map: boolean): string => {
  const m = r.metrics;
  const maps = map ? [f(m.val_map ?? null)] : [];
  const cells = [f(m.loss), f(m.accuracy), f(m.val_loss), f(m.val_accuracy), ...maps, formatLr(r.lr).padEnd(7)].join(
    '   ',
  );
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
  // Multi-label runs add the validation mAP (what picks their best model) and chart it.
  const map = rows.some((r) => r.metrics.val_map !== undefined);
  const chart = map ? 'val_mAP' : 'val_acc';
  return (
    <Box flexDirection="column">
      <Text color={color('gray')}>
        {`stage epoch   loss     acc      val_loss val_acc  ${map ? 'val_mAP  ' : ''}lr       secs`}
      </Text>
      {rows.length > show && <Text color={color('gray')}>… {rows.length - show} earlier epochs</Text>}
      {visible.map((r) => (
        <Text key={`${r.stage}.${r.epoch}`} color={color(r.best ? 'green' : 'white')}>
          {row(r, map)}
        </Text>
      ))}
      <Text>
        {`loss ${sparkline(rows.map((r) => r.metrics.loss))}   ${chart} ` +
          `${sparkline(rows.map((r) => (map ? (r.metrics.val_map ?? null) : r.metrics.val_accuracy)))}`}
      </Text>
    </Box>
  );
}
