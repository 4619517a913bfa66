import { Box, Text } from 'ink';
import type { ViewState } from '../state.js';
import { evaluationText } from '../../text/evaluation.js';
import { time } from './progress-bar.js';
import { color } from '../theme.js';

/** The finished run's summary: evaluation, best metric, where the model and report went. */
export function Summary({ s }: { s: ViewState }) {
  return (
    <Box flexDirection="column" marginTop={1}>
      {s.evaluation && <Text>{evaluationText(s.evaluation)}</Text>}
      {s.finished && (
        <Box flexDirection="column" marginTop={1}>
          <Text color={color('green')} bold>best {s.finished.best.metric} {s.finished.best.value.toFixed(4)} (stage {s.finished.best.stage}, epoch {s.finished.best.epoch})</Text>
          <Text>model  {s.finished.modelDir}</Text>
          {(s.finished.exported ?? []).map((f) => <Text key={f}>onnx   {f}</Text>)}
          <Text>report {s.finished.runDir}/report.json</Text>
          <Text>finished in {time(s.finished.seconds)}</Text>
        </Box>
      )}
      {s.interrupted && <Text color={color('yellow')}>interrupted: the best model and a checkpoint are kept; continue with tlr run --resume {s.runDir}</Text>}
      {s.error && <Text color={color('red')}>error: {s.error}</Text>}
    </Box>
  );
}
