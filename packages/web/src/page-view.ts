/**
 * Draws the page's state: status, facts, progress, the loss curve and a table of steps; joined to a
 * federation, the client's rounds; served by the server, the federation's clients and accuracy.
 */
import type { FederationStatus } from '@atoll/sync'
import type { FederatedState, PageState } from './page-state.ts'

const CHART = { width: 600, height: 160, pad: 8 }
const LOSS_COLOUR = '#2563eb'
const ACCURACY_COLOUR = '#15803d'

function element<T extends HTMLElement | SVGElement>(id: string): T {
  const found = document.getElementById(id)
  if (found === null) throw new Error(`the page has no #${id}`)
  return found as T
}

export function render(state: PageState): void {
  const status = element<HTMLElement>('status')
  status.textContent = state.status
  status.dataset.status = state.status
  const start = element<HTMLButtonElement>('start')
  start.disabled = state.status !== 'idle'
  element<HTMLInputElement>('files').disabled = state.status !== 'idle'
  start.textContent = state.options.server === undefined ? 'Train' : 'Join the federation'
  const fed = state.federated
  element<HTMLElement>('model').textContent = `the zoo's ${fed?.model ?? state.options.model}`
  renderFacts(state)
  const progress = element<HTMLProgressElement>('progress')
  const round = fed?.rounds.at(-1)
  progress.value =
    fed === undefined
      ? state.steps.length / state.options.steps
      : round
        ? round.losses.length / (round.steps || 1)
        : 0
  element<HTMLElement>('error').textContent = state.error ?? ''
  const losses = fed === undefined ? state.steps.map((s) => s.loss) : fed.rounds.flatMap((r) => r.losses)
  renderChart('chart', losses, LOSS_COLOUR)
  element<HTMLElement>('steps-table').hidden = fed !== undefined
  if (fed !== undefined) renderRounds(fed)
  if (state.board !== undefined) renderBoard(state.board)
}

/** Appends the newest step's row (rows are never redrawn: a long run stays cheap). */
export function appendStepRow(state: PageState): void {
  const last = state.steps.at(-1)
  if (last === undefined) return
  const row = document.createElement('tr')
  for (const text of [String(last.step + 1), last.loss.toFixed(4), (last.seconds * 1000).toFixed(0)]) {
    const cell = document.createElement('td')
    cell.textContent = text
    row.append(cell)
  }
  element<HTMLElement>('steps').append(row)
}

function renderFacts(state: PageState): void {
  const { options, runtime, federated } = state
  const facts: (readonly [string, string])[] = [
    ...(federated === undefined
      ? ([
          ['steps × batch', `${options.steps} × ${options.batch} at lr ${options.lr}, seed ${options.seed}`],
        ] as const)
      : federatedFacts(federated)),
    ['backend', state.backend ?? `${options.backend} (not started)`],
    ['threads', state.threads === undefined ? '–' : String(state.threads)],
    ['cross-origin isolated', state.crossOriginIsolated ? 'yes' : 'no (one thread)'],
    [
      'runtime',
      runtime === undefined
        ? '–'
        : `${runtime.build} build, ${(runtime.bytes / 2 ** 20).toFixed(1)} MB ${runtime.fromCache ? 'from the cache' : 'downloaded'}`,
    ],
    ['images', imagesFact(state)],
  ]
  element<HTMLElement>('facts').replaceChildren(...definitions(facts))
}

function imagesFact(state: PageState): string {
  if (state.images === undefined) return 'the bundled sample (not loaded yet), or pick files'
  return `${state.images} ${state.imageSource === 'picked' ? 'picked files' : 'of the bundled sample'}`
}

function federatedFacts(fed: FederatedState): [string, string][] {
  return [
    ['server', fed.server],
    [
      'connection',
      fed.transport === undefined
        ? '–'
        : fed.transport === 'webrtc'
          ? 'WebRTC (signalled through a relay)'
          : 'WebSockets',
    ],
    ['this tab', fed.peerId ?? '–'],
    ['federation', fed.federation ?? '–'],
    ['phase', fed.phase],
    ['upload to the server', fed.bandwidthBps === undefined ? '–' : mbits(fed.bandwidthBps)],
  ]
}

function definitions(facts: readonly (readonly [string, string])[]): HTMLElement[] {
  return facts.flatMap(([term, value]) => {
    const dt = document.createElement('dt')
    dt.textContent = term
    const dd = document.createElement('dd')
    dd.textContent = value
    return [dt, dd]
  })
}

/** This tab's rounds: the ratio the server asked for, the local loss, the upload and its outcome. */
function renderRounds(fed: FederatedState): void {
  element<HTMLElement>('rounds-panel').hidden = false
  const rows = fed.rounds.map((r) => [
    String(r.round),
    r.keepRatio.toFixed(3),
    `${r.losses.length}/${r.steps}`,
    r.losses.at(-1)?.toFixed(4) ?? '–',
    r.uploadBytes === undefined ? '–' : kb(r.uploadBytes),
    r.uploadSeconds === undefined ? '–' : r.uploadSeconds.toFixed(2),
    r.outcome ?? '…',
  ])
  fillTable('rounds', rows)
}

/** The server's panel: its phase and round, every client, and the accuracy after each round. */
function renderBoard(board: FederationStatus): void {
  element<HTMLElement>('board-panel').hidden = false
  const last = board.accuracy.at(-1)
  element<HTMLElement>('board-summary').textContent =
    `${board.federation} (${board.strategy}): ${board.phase}, round ${board.round} of ${board.rounds}` +
    (last === undefined
      ? ''
      : `; held-out accuracy ${(100 * last.accuracy).toFixed(1)} % after ${last.afterRounds} round(s)`)
  const rows = board.clients.map((c) => [
    `…${c.client.slice(-8)}${c.present ? '' : ' (left)'}`,
    String(c.samples),
    mbits(c.bandwidthBps),
    c.last === undefined ? '–' : `${c.last.round}: ${c.last.keepRatio.toFixed(3)}`,
    c.last?.bytes === undefined ? '–' : kb(c.last.bytes),
    c.last?.uploadSeconds === undefined ? '–' : c.last.uploadSeconds.toFixed(2),
    c.last?.arrivedAfterSeconds === undefined ? '–' : c.last.arrivedAfterSeconds.toFixed(1),
    c.last?.status ?? '–',
  ])
  fillTable('clients', rows)
  renderChart(
    'accuracy',
    board.accuracy.map((p) => p.accuracy),
    ACCURACY_COLOUR,
  )
}

function fillTable(id: string, rows: readonly string[][]): void {
  element<HTMLElement>(id).replaceChildren(
    ...rows.map((cells) => {
      const row = document.createElement('tr')
      for (const text of cells) {
        const cell = document.createElement('td')
        cell.textContent = text
        row.append(cell)
      }
      return row
    }),
  )
}

const mbits = (bytesPerSecond: number) => `${((8 * bytesPerSecond) / 1e6).toFixed(1)} Mbit/s`
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`

function renderChart(id: string, values: readonly number[], colour: string): void {
  const svg = element<SVGSVGElement>(id)
  if (values.length < 2) {
    svg.replaceChildren()
    return
  }
  const top = Math.max(...values)
  const bottom = Math.min(...values)
  const span = top - bottom || 1
  const { width, height, pad } = CHART
  const points = values.map((value, i) => {
    const x = pad + (i / (values.length - 1)) * (width - 2 * pad)
    const y = pad + ((top - value) / span) * (height - 2 * pad)
    return `${x.toFixed(1)},${y.toFixed(1)}`
  })
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline')
  line.setAttribute('points', points.join(' '))
  line.setAttribute('fill', 'none')
  line.setAttribute('stroke', colour)
  line.setAttribute('stroke-width', '2')
  line.setAttribute('vector-effect', 'non-scaling-stroke')
  svg.replaceChildren(line)
}
