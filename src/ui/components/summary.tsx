import { Box, Text } from 'ink';
import type { ViewState } from '../state.js';
import { evaluationText } from '../../text/evaluation.js';
import { time } from './progress-bar.js';
import { color } from '../theme.js';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

/** A file as a clickable link on terminals that understand OSC 8 (others show the URL as text). */
const link = (file: string): string => {
  const url = pathToFileURL(path.resolve(file)).href;
  return `\x1b]8;;${url}\x07${url}\x1b]8;;\x07`;
};

/** The finished run's summary: evaluation, best metric, where the model and report went. */
export function Summary({ s }: { s: ViewState }) {
  return (
    <Box flexDirection="column" marginTop={1}>
      {s.evaluation && <Text>{evaluationText(s.evaluation)}</Text>}
      {s.finished && (
        <Box flexDirection="column" marginTop={1}>
          <Text color={color('green')} bold>
            best {s.finished.best.metric} {(s.finished.best.value ?? Number.NaN).toFixed(4)} (stage{' '}
            {s.finished.best.stage}, epoch {s.finished.best.epoch})
          </Text>
          <Text>{`model  ${s.finished.modelDir}`}</Text>
          {(s.finished.exported ?? []).map((f) => (
            <Text key={f}>{`onnx   ${f}`}</Text>
          ))}
          <Text>
            {`report ${s.finished.runDir}/report.html  `}
            <Text dimColor>{link(`${s.finished.runDir}/report.html`)}</Text>
          </Text>
          <Text>finished in {time(s.finished.seconds)}</Text>
        </Box>
      )}
      {s.interrupted && (
        <Text color={color('yellow')}>
          interrupted: the best model and a checkpoint are kept; continue with tlr run --resume {s.runDir}
        </Text>
      )}
      {s.error && <Text color={color('red')}>error: {s.error}</Text>}
    </Box>
  );
}
