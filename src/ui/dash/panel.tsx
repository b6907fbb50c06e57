import {Box, Text} from 'ink'
import type {ReactNode} from 'react'

/** A bordered panel; the focused one has a bold cyan border. */
export const Panel = ({
  title,
  focused,
  children,
  width,
  height,
  error,
}: {
  title: string
  focused: boolean
  children?: ReactNode
  width?: string | number
  height?: number
  error?: string
}) => (
  <Box
    flexDirection="column"
    borderStyle={focused ? 'bold' : 'round'}
    borderColor={focused ? 'cyan' : 'gray'}
    paddingX={1}
    width={width}
    height={height}
    overflow="hidden"
  >
    <Text bold color={focused ? 'cyan' : undefined}>
      {title}
    </Text>
    {error ? <Text color="red">✗ {error}</Text> : children}
  </Box>
)

/** Fixed-width cells so columns line up without a table library. */
export const Row = ({cells, widths, color, bold}: {cells: (string | number)[]; widths: number[]; color?: string; bold?: boolean}) => (
  <Text color={color} bold={bold} wrap="truncate">
    {cells.map((c, i) => fit(String(c), widths[i] ?? 10, i > 0)).join(' ')}
  </Text>
)

const fit = (s: string, w: number, right: boolean): string => {
  if (s.length > w) return s.slice(0, Math.max(0, w - 1)) + '…'
  return right ? s.padStart(w) : s.padEnd(w)
}
