import { useEffect, useState } from 'react';
import { Box, Text, useInput } from 'ink';
import type { Events } from '../runtime/events.js';
import type { WatchStatus } from '../watch/session.js';
import { RunView } from './run-view.js';
import { color } from './theme.js';

// Watch mode: the current run's live view, what changed in the plan, and the diagnostics while the
// recipe is broken (the running job goes on meanwhile).

export interface WatchFeed {
  on(l: (s: WatchStatus, events: Events | null) => void): () => void;
}

/** The live view of watch mode: the current run, and what the last save did. */
export function WatchView({ file, feed, onQuit }: { file: string; feed: WatchFeed; onQuit: () => void }) {
  const [status, setStatus] = useState<WatchStatus | null>(null);
  const [run, setRun] = useState<{ n: number; events: Events; changes: readonly string[] } | null>(null);
  useEffect(
    () =>
      feed.on((s, events) => {
        setStatus(s);
        if (s.kind === 'started' && events) setRun({ n: s.run, events, changes: s.changes });
      }),
    [feed],
  );
  useInput(
    (input, key) => {
      if (input === 'q' || (key.ctrl && input === 'c')) onQuit();
    },
    { isActive: !!process.stdin.isTTY },
  );
  return (
    <Box flexDirection="column">
      <Text color={color('cyan')}>watching {file} and its data · q quits</Text>
      {run && run.changes.length > 0 && (
        <Box flexDirection="column">
          <Text>run {run.n} started; the plan changed:</Text>
          {run.changes.map((c) => (
            <Text key={c} color={color('gray')}>
              {`  ${c}`}
            </Text>
          ))}
        </Box>
      )}
      {run && <RunView key={run.n} events={run.events} compact={status?.kind === 'diagnostics'} />}
      {status?.kind === 'unchanged' && <Text color={color('gray')}>saved; the plan did not change</Text>}
      {status?.kind === 'missing' && (
        <Text color={color('yellow')}>the recipe was deleted; waiting for it (the current run goes on)</Text>
      )}
      {/* Last, where the eye is after a save, whatever the terminal's height. */}
      {status?.kind === 'diagnostics' && (
        <Box flexDirection="column" borderStyle="round" borderColor={color('red')} paddingX={1}>
          <Text color={color('red')}>the recipe has errors; the current run goes on</Text>
          <Text>{status.text}</Text>
        </Box>
      )}
    </Box>
  );
}
