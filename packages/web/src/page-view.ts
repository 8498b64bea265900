/** Draws the page's state: status, facts, progress, the loss curve and a table of steps. */
import type { PageState } from './page-state.ts'

const CHART = { width: 600, height: 160, pad: 8 }

function element<T extends HTMLElement | SVGElement>(id: string): T {
  const found = document.getElementById(id)
  if (found === null) throw new Error(`the page has no #${id}`)
  return found as T
}

export function render(state: PageState): void {
  const status = element<HTMLElement>('status')
  status.textContent = state.status
  status.dataset.status = state.status
  element<HTMLButtonElement>('start').disabled = state.status !== 'idle'
  element<HTMLElement>('model').textContent = `the zoo's ${state.options.model}`
  renderFacts(state)
  const progress = element<HTMLProgressElement>('progress')
  progress.value = state.steps.length / state.options.steps
  element<HTMLElement>('error').textContent = state.error ?? ''
  renderChart(state.steps.map((s) => s.loss))
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
  const { options, runtime } = state
  const facts: [string, string][] = [
    ['steps × batch', `${options.steps} × ${options.batch} at lr ${options.lr}, seed ${options.seed}`],
    ['backend', state.backend ?? `${options.backend} (not started)`],
    ['threads', state.threads === undefined ? '–' : String(state.threads)],
    ['cross-origin isolated', state.crossOriginIsolated ? 'yes' : 'no (one thread)'],
    [
      'runtime',
      runtime === undefined
        ? '–'
        : `${runtime.build} build, ${(runtime.bytes / 2 ** 20).toFixed(1)} MB ${runtime.fromCache ? 'from the cache' : 'downloaded'}`,
    ],
    ['sample shard', state.images === undefined ? '–' : `${state.images} images`],
  ]
  const list = element<HTMLElement>('facts')
  list.replaceChildren(
    ...facts.flatMap(([term, value]) => {
      const dt = document.createElement('dt')
      dt.textContent = term
      const dd = document.createElement('dd')
      dd.textContent = value
      return [dt, dd]
    }),
  )
}

function renderChart(losses: readonly number[]): void {
  const svg = element<SVGSVGElement>('chart')
  if (losses.length < 2) {
    svg.replaceChildren()
    return
  }
  const top = Math.max(...losses)
  const bottom = Math.min(...losses)
  const span = top - bottom || 1
  const { width, height, pad } = CHART
  const points = losses.map((loss, i) => {
    const x = pad + (i / (losses.length - 1)) * (width - 2 * pad)
    const y = pad + ((top - loss) / span) * (height - 2 * pad)
    return `${x.toFixed(1)},${y.toFixed(1)}`
  })
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline')
  line.setAttribute('points', points.join(' '))
  line.setAttribute('fill', 'none')
  line.setAttribute('stroke', '#2563eb')
  line.setAttribute('stroke-width', '2')
  line.setAttribute('vector-effect', 'non-scaling-stroke')
  svg.replaceChildren(line)
}
