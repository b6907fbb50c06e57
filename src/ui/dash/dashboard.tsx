import {Box, Text, useApp, useInput, useStdout} from 'ink'
import {useCallback, useEffect, useMemo, useRef, useState} from 'react'

import {addSample, type TrendSample} from '../../operations/collectors/trends.js'
import type {DashSource, Outcome} from '../../operations/dash.js'
import type {PlatformStatus} from '../../operations/status.js'
import {AggregatesPanel, FeedPanel, ProjectionsPanel} from './data-panels.js'
import {progressText} from '../text/projections.js'
import {HelpOverlay} from './help.js'
import {initialKeyState, type KeyState, onKey, type Mode, type ProjectionsAction} from './keys.js'
import {dlqRows, QueuesPanel} from './queues-panel.js'
import {ServicesPanel} from './services-panel.js'
import {traceRows, TracesPanel} from './traces-panel.js'
import {TrendsPanel} from './trends-panel.js'
import {renderWaterfall} from '../text/trace.js'
import {useFeed} from './use-feed.js'
import {usePoll} from './use-poll.js'

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
  // Key state lives in a ref read by one stable handler (keys.ts): Ink subscribes to stdin once,
  // and keys arriving before a re-render still see the latest mode and focus.
  const [keys, setKeys] = useState<KeyState>(initialKeyState)
  const keysRef = useRef<KeyState>(initialKeyState)
  const setKeyState = (next: KeyState) => {
    keysRef.current = next
    setKeys(next)
  }
  const setMode = (mode: Mode) => setKeyState({...keysRef.current, mode})
  const {mode, focus, selectedDlq, selectedTrace} = keys
  const [message, setMessage] = useState<{text: string; error: boolean}>()
  const [progress, setProgress] = useState<string>()
  const poll = usePoll(() => source.status(), intervalMs)
  // Traces change slower than counters, and their query is heavier: every 5 s at most.
  const tracesPoll = usePoll(() => source.traces(), Math.max(intervalMs, 5000))
  const [opened, setOpened] = useState<{traceId: string; text?: string; error?: string}>()
  const subscribe = useCallback<DashSource['subscribe']>((onEntry, onState) => source.subscribe(onEntry, onState), [source])
  const feed = useFeed(subscribe, 50, keys.filter)
  const prev = useRef<{at: number; status: PlatformStatus} | undefined>(undefined)
  const last = useRef<{at: number; status: PlatformStatus} | undefined>(undefined)
  const trends = useRef<TrendSample[]>([])
  // Rates and the trends' new sample from this poll and the one before, computed while rendering:
  // one render per refresh (a second one from an effect cost as much as the first).
  if (poll.value && poll.at && last.current?.at !== poll.at) {
    prev.current = last.current
    last.current = {at: poll.at, status: poll.value}
    trends.current = addSample(trends.current, prev.current, last.current)
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
  const traces = traceRows(tracesPoll.value)
  // The waterfall of the trace Enter opened, fetched once per opening.
  const openedId = mode.kind === 'trace' ? mode.traceId : undefined
  useEffect(() => {
    if (!openedId) return setOpened(undefined)
    setOpened({traceId: openedId})
    let live = true
    source.trace(openedId).then(
      (r) => live && setOpened({traceId: openedId, text: r.traces.map((w) => renderWaterfall(w)).join('\n\n') || 'no spans stored for this trace'}),
      (error: Error) => live && setOpened({traceId: openedId, error: error.message}),
    )
    return () => void (live = false)
  }, [openedId, source])
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

  // Everything the key handler needs from this render, for the stable handler to read.
  const latest = useRef({dlqs, traces, quit, run, source, onProgress, setMessage})
  latest.current = {dlqs, traces, quit, run, source, onProgress, setMessage}
  const handleKey = useCallback((input: string, key: Parameters<Parameters<typeof useInput>[0]>[1]) => {
    const {dlqs, traces, quit, run, source, onProgress, setMessage} = latest.current
    const {state, effect} = onKey(keysRef.current, input, key, dlqs, traces)
    if (state !== keysRef.current) setKeyState(state)
    if (!effect) return
    if (effect.kind === 'quit') quit()
    else if (effect.kind === 'flush') run('flush', () => source.flush())
    else if (effect.kind === 'replay') run(`replay ${effect.dlq}`, () => source.replay(effect.dlq))
    else if (effect.kind === 'projections') run(effect.action, () => source[effect.action](onProgress))
    else setMessage({text: effect.text, error: true})
  }, [])
  useInput(handleKey, {isActive: interactive})

  const half = '50%'
  const status = poll.value
  // Panels fed by the platform snapshot say why it is missing instead of "waiting…".
  const unavailable =
    status && !status.platform ? (status.runtime === 'none' ? 'platform not running (start it with mm up -d)' : 'no server answering') : undefined
  const feedRows = Math.max(3, size.rows - 44)
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
      ) : mode.kind === 'trace' ? (
        <Box flexDirection="column" borderStyle="round" borderColor="cyan" paddingX={1}>
          <Text bold color="cyan">
            trace {mode.traceId} <Text dimColor>(any key closes · mm trace {mode.traceId} prints it)</Text>
          </Text>
          {opened?.error ? <Text color="red">✗ {opened.error}</Text> : <Text>{opened?.text ?? 'loading…'}</Text>}
        </Box>
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
          <Box>
            <TracesPanel traces={tracesPoll.value} error={tracesPoll.error} focused={focus === 'traces'} selected={selectedTrace} width={half} />
            <TrendsPanel history={trends.current} focused={focus === 'trends'} width={half} columns={Math.floor(size.columns / 2)} />
          </Box>
          <FeedPanel feed={feed} focused={focus === 'feed'} rows={feedRows} filter={keys.filter} editing={mode.kind === 'filter' ? mode.text : undefined} />
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
