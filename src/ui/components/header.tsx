import { Box, Text } from 'ink';
import type { ViewState } from '../state.js';
import { color } from '../theme.js';

/** Recipe, network, weights and backend. */
export function Header({ s }: { s: ViewState }) {
  return (
    <Box flexDirection="column">
      <Text bold color={color('green')}>
        tlr run · {s.recipe}
      </Text>
      <Text>
        {s.network} · weights {s.weights} · backend {s.backend}
      </Text>
    </Box>
  );
}

/** Each stage: done, running or waiting. */
export function Stages({ s }: { s: ViewState }) {
  return (
    <Box flexDirection="column">
      {s.stages.map((st) => (
        <Text
          key={st.index}
          color={color(st.status === 'running' ? 'yellow' : st.status === 'done' ? 'green' : 'gray')}
        >
          {st.status === 'done' ? '✓' : st.status === 'running' ? '▶' : '·'} stage {st.index}: {st.epochs} epochs
          {st.cached ? ', head on cached features' : ', on images'}
          {st.status === 'waiting' ? ' (waiting)' : ''}
        </Text>
      ))}
    </Box>
  );
}
