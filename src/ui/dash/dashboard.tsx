import {Box, Text, useApp, useInput, useStdout} from 'ink'
import {useCallback, useEffect, useMemo, useRef, useState} from 'react'

import type {DashSource, Outcome} from '../../operations/dash.js'
import type {PlatformStatus} from '../../operations/status.js'
import {AggregatesPanel, FeedPanel, ProjectionsPanel} from './data-panels.js'
import {progressText} from '../text/projections.js'
import {HelpOverlay} from './help.js'
import {dlqRows, QueuesPanel} from './queues-panel.js'
import {ServicesPanel} from './services-panel.js'
import {useFeed} from './use-feed.js'
import {usePoll} from './use-poll.js'

const PANELS = ['services', 'queues', 'projections', 'aggregates', 'feed'] as const
type PanelName = (typeof PANELS)[number]

type ProjectionsAction = 'verify' | 'rebuild'
type Mode =
  | {kind: 'normal'}
  | {kind: 'help'}
  | {kind: 'confirm'; dlq: string; messages: number}
  | {kind: 'confirm-projections'; action: ProjectionsAction}
  | {kind: 'busy'; what: string}

const PROJECTIONS_QUESTION: Record<ProjectionsAction, string> = {
  verify: 'Verify every document of the read model against the write models?',
  rebuild: 'Rebuild the read model from the write models and swap it in while the platform runs?',
}

/** Requests per second per runner, from two consecutive snapshots' counters. */
const rates = (prev: {at: number; status: PlatformStatus} | undefined, cur: PlatformStatus, at: number): Record<string, number> => {
  if (!prev) return {}
  const dt = (at - prev.at) / 1000
  if (dt <= 0) return {}
  return Object.fromEntries(
    cur.runners.map((r) => [
      r.name,
      Math.max(0, (r.counters.httpRequests - (prev.status.runners.find((p) => p.name === r.name)?.counters.httpRequests ?? r.counters.httpRequests)) / dt),
    ]),
  )
}

/** `mm dash`: every part of the event path in one screen (PLATFORM.md §6). */
export const Dashboard = ({source, intervalMs, interactive, onQuit}: {source: DashSource; intervalMs: number; interactive: boolean; onQuit: () => void}) => {
  const {exit} = useApp()
  const {stdout} = useStdout()
  const [size, setSize] = useState({columns: stdout.columns || 160, rows: stdout.rows || 48})
  // Key handling reads refs: keys arriving before React re-attaches the handler still see the
  // latest mode and focus (no double replay on "yy", no lost tab on two quick tabs).
  const [focus, setFocusState] = useState<PanelName>('services')
  const focusRef = useRef<PanelName>('services')
  const setFocus = (f: PanelName) => {
    focusRef.current = f
    setFocusState(f)
  }
  const [selectedDlq, setSelectedDlq] = useState(0)
  const [mode, setModeState] = useState<Mode>({kind: 'normal'})
  const modeRef = useRef<Mode>({kind: 'normal'})
  const setMode = (m: Mode) => {
    modeRef.current = m
    setModeState(m)
  }
  const [message, setMessage] = useState<{text: string; error: boolean}>()
  const [progress, setProgress] = useState<string>()
  const poll = usePoll(() => source.status(), intervalMs)
  const subscribe = useCallback<DashSource['subscribe']>((onEntry, onState) => source.subscribe(onEntry, onState), [source])
  const feed = useFeed(subscribe)
  const prev = useRef<{at: number; status: PlatformStatus} | undefined>(undefined)
  const last = useRef<{at: number; status: PlatformStatus} | undefined>(undefined)
  // Rates from this poll and the one before, computed while rendering (no second render).
  if (poll.value && poll.at && last.current?.at !== poll.at) {
    prev.current = last.current
    last.current = {at: poll.at, status: poll.value}
  }
  const reqPerSec = useMemo(() => (poll.value && poll.at ? rates(prev.current, poll.value, poll.at) : {}), [poll.value, poll.at])

  useEffect(() => {
    const onResize = () => setSize({columns: stdout.columns || 160, rows: stdout.rows || 48})
    stdout.on('resize', onResize)
    return () => void stdout.off('resize', onResize)
  }, [stdout])

  const quit = useCallback(() => {
    onQuit()
    exit()
  }, [exit, onQuit])

  const dlqs = dlqRows(poll.value?.platform)
  const selected = Math.min(selectedDlq, Math.max(0, dlqs.length - 1))
  const run = (what: string, work: () => Promise<string | Outcome>) => {
    setMode({kind: 'busy', what})
    setProgress(undefined)
    work()
      .then(
        (r) => setMessage(typeof r === 'string' ? {text: r, error: false} : {text: r.text, error: !r.ok}),
        (error: Error) => setMessage({text: `${what} failed: ${error.message}`, error: true}),
      )
      .finally(() => setMode({kind: 'normal'}))
  }
  // Progress of a verify or rebuild, at most a few redraws a second.
  const lastProgress = useRef(0)
  const onProgress = useCallback((p: Parameters<typeof progressText>[0]) => {
    const now = Date.now()
    if (now - lastProgress.current < 250) return
    lastProgress.current = now
    setProgress(progressText(p))
  }, [])

  useInput(
    (input, key) => {
      const mode = modeRef.current
      const focus = focusRef.current
      if (key.ctrl && input === 'c') return quit()
      if (mode.kind === 'help') return setMode({kind: 'normal'})
      if (mode.kind === 'busy') return input === 'q' ? quit() : undefined
      if (mode.kind === 'confirm') {
        if (input === 'y' || input === 'Y') run(`replay ${mode.dlq}`, () => source.replay(mode.dlq))
        else setMode({kind: 'normal'})
        return
      }
      if (mode.kind === 'confirm-projections') {
        if (input === 'y' || input === 'Y') run(mode.action, () => source[mode.action](onProgress))
        else setMode({kind: 'normal'})
        return
      }
      if (input === 'q') return quit()
      if (input === '?') return setMode({kind: 'help'})
      const i = PANELS.indexOf(focus)
      if (key.tab && !key.shift) return setFocus(PANELS[(i + 1) % PANELS.length]!)
      if (key.tab && key.shift) return setFocus(PANELS[(i + PANELS.length - 1) % PANELS.length]!)
      if (key.rightArrow) return setFocus(PANELS[(i + 1) % PANELS.length]!)
      if (key.leftArrow) return setFocus(PANELS[(i + PANELS.length - 1) % PANELS.length]!)
      if (focus === 'queues' && (key.upArrow || key.downArrow) && dlqs.length > 0) {
        return setSelectedDlq((s) => (Math.min(s, dlqs.length - 1) + (key.downArrow ? 1 : dlqs.length - 1)) % dlqs.length)
      }
      if (key.upArrow) return setFocus(PANELS[Math.max(0, i - 2)]!)
      if (key.downArrow) return setFocus(PANELS[Math.min(PANELS.length - 1, i + 2)]!)
      if (input === 'f') return run('flush', () => source.flush())
      if (input === 'v') return setMode({kind: 'confirm-projections', action: 'verify'})
      if (input === 'b') return setMode({kind: 'confirm-projections', action: 'rebuild'})
      if (input === 'r') {
        const dlq = dlqs[selected]
        if (focus !== 'queues' || !dlq) return setMessage({text: 'select a DLQ in the Queues panel first (tab to it, ↑↓ to choose)', error: true})
        return setMode({kind: 'confirm', dlq: dlq.name, messages: dlq.messages})
      }
    },
    {isActive: interactive},
  )

  const half = '50%'
  const status = poll.value
  // Panels fed by the platform snapshot say why it is missing instead of "waiting…".
  const unavailable =
    status && !status.platform ? (status.runtime === 'none' ? 'platform not running (start it with mm up -d)' : 'no server answering') : undefined
  const feedRows = Math.max(3, size.rows - 34)
  return (
    <Box flexDirection="column" width={size.columns}>
      <Box justifyContent="space-between">
        <Text bold>mm dash</Text>
        <Text dimColor>
          {poll.at ? `updated ${new Date(poll.at).toISOString().slice(11, 19)} (${poll.tookMs}ms)` : 'connecting…'} · every {intervalMs / 1000}s · ? help · q
          quit
        </Text>
      </Box>
      {poll.error && <Text color="red">✗ {poll.error} (still trying)</Text>}
      {mode.kind === 'help' ? (
        <HelpOverlay />
      ) : (
        <>
          <Box>
            <ServicesPanel status={status} reqPerSec={reqPerSec} focused={focus === 'services'} width={half} />
            <QueuesPanel snapshot={status?.platform} focused={focus === 'queues'} selectedDlq={selected} width={half} unavailable={unavailable} />
          </Box>
          <Box>
            <ProjectionsPanel
              snapshot={status?.platform}
              focused={focus === 'projections'}
              width={half}
              unavailable={unavailable}
              now={poll.at ?? Date.now()}
            />
            <AggregatesPanel snapshot={status?.platform} focused={focus === 'aggregates'} width={half} now={poll.at ?? Date.now()} unavailable={unavailable} />
          </Box>
          <FeedPanel feed={feed} focused={focus === 'feed'} rows={feedRows} />
        </>
      )}
      {mode.kind === 'confirm' && (
        <Text color="yellow" bold>
          Replay {mode.messages} message(s) of {mode.dlq} to their original destination? [y/N]
        </Text>
      )}
      {mode.kind === 'confirm-projections' && (
        <Text color="yellow" bold>
          {PROJECTIONS_QUESTION[mode.action]} [y/N]
        </Text>
      )}
      {mode.kind === 'busy' && (
        <Text color="cyan" wrap="truncate">
          {mode.what}…{progress ? ` ${progress.replace(/^… /, '')}` : ''}
        </Text>
      )}
      {mode.kind === 'normal' && message && <Text color={message.error ? 'red' : 'green'}>{message.text}</Text>}
    </Box>
  )
}
