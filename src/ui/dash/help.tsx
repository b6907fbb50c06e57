import {Box, Text} from 'ink'

const KEYS: [string, string][] = [
  ['tab / shift-tab, ← →', 'move between panels'],
  ['↑ ↓', 'move between rows of panels; in Queues, select a DLQ; in Traces, a trace'],
  ['Enter', "in Traces: the selected trace's waterfall (any key closes it)"],
  ['/', 'filter the live events (words to match; Enter applies, Esc cancels; Esc again clears)'],
  ['f', 'run an ingest flush now'],
  ['r', 'replay the selected DLQ (asks y/N first)'],
  ['v', 'verify the read model against the write models (asks y/N first)'],
  ['b', 'rebuild the read model and swap it in (asks y/N first)'],
  ['?', 'this help (any key closes it)'],
  ['q, Ctrl+C', 'quit'],
]

export const HelpOverlay = () => (
  <Box flexDirection="column" borderStyle="double" paddingX={2} paddingY={1}>
    <Text bold>Keys</Text>
    {KEYS.map(([k, what]) => (
      <Text key={k}>
        <Text color="cyan">{k.padEnd(22)}</Text> {what}
      </Text>
    ))}
    <Text> </Text>
    <Text dimColor>The numbers are those of mm status --json, refreshed without overlapping polls.</Text>
  </Box>
)
