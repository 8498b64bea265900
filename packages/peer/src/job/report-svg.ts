/**
 * The drawing pieces of a job's report (report.ts): a line chart and a bar chart as inline SVG, and
 * the one escape every text and attribute goes through - peer names and job names come from the
 * network and from files, so nothing reaches the page unescaped.
 */

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/** `text` safe inside an HTML or SVG element and inside a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c])
}

/** A coordinate or length for an attribute: finite, two decimals at most. */
export function num(value: number): string {
  return Number.isFinite(value) ? String(Math.round(value * 100) / 100) : '0'
}

export interface Series {
  label: string
  /** a class of report.ts's style sheet: the series' colour */
  kind: 'train' | 'eval' | 'measured' | 'predicted'
  points: readonly (readonly [number, number])[]
  /** drawn as dots rather than a line */
  dots?: boolean
  dashed?: boolean
}

export interface LineChart {
  title: string
  xLabel: string
  yLabel: string
  series: Series[]
  /** y axis from 0 rather than from the lowest point */
  fromZero?: boolean
}

const W = 640
const H = 280
const PAD = { left: 56, right: 16, top: 34, bottom: 40 }
const TICKS = 5

/** Round tick values (1, 2 or 5 × a power of ten apart) covering [low, high]. */
export function niceTicks(low: number, high: number, count = TICKS): number[] {
  if (!(high > low)) return [low]
  const raw = (high - low) / count
  const power = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power
  const ticks: number[] = []
  for (let t = Math.ceil(low / step) * step; t <= high + step * 1e-9; t += step)
    ticks.push(+t.toPrecision(12))
  return ticks
}

/** Lines (or dots) over a shared pair of axes, with a legend; points that are not finite are left out. */
export function lineChart(chart: LineChart): string {
  const points = chart.series.flatMap((s) =>
    s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)),
  )
  if (points.length === 0)
    return `<svg class="chart" viewBox="0 0 ${W} 60" role="img"><text x="12" y="34" class="note">${escapeHtml(chart.title)}: nothing measured</text></svg>`
  const xs = points.map((p) => p[0])
  const ys = points.map((p) => p[1])
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)]
  const yTicks = niceTicks(chart.fromZero ? 0 : Math.min(...ys), Math.max(...ys))
  const [y0, y1] = [Math.min(yTicks[0], ...ys), Math.max(yTicks.at(-1) ?? 0, ...ys)]
  const sx = (x: number) => PAD.left + ((x - x0) / (x1 - x0 || 1)) * (W - PAD.left - PAD.right)
  const sy = (y: number) => H - PAD.bottom - ((y - y0) / (y1 - y0 || 1)) * (H - PAD.top - PAD.bottom)
  const grid = yTicks.map(
    (t) =>
      `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${num(sy(t))}" y2="${num(sy(t))}" class="grid"/>` +
      `<text x="${PAD.left - 6}" y="${num(sy(t) + 4)}" text-anchor="end" class="tick">${escapeHtml(tickText(t))}</text>`,
  )
  const xAxis = niceTicks(x0, x1).map(
    (t) =>
      `<text x="${num(sx(t))}" y="${H - PAD.bottom + 16}" text-anchor="middle" class="tick">${escapeHtml(tickText(t))}</text>`,
  )
  const drawn = chart.series.map((s) => {
    const finite = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
    if (s.dots)
      return finite
        .map(([x, y]) => `<circle cx="${num(sx(x))}" cy="${num(sy(y))}" r="4" class="dot ${s.kind}"/>`)
        .join('')
    const path = finite.map(([x, y]) => `${num(sx(x))},${num(sy(y))}`).join(' ')
    return `<polyline points="${path}" class="line ${s.kind}${s.dashed ? ' dashed' : ''}"/>`
  })
  const legend = chart.series.map(
    (s, k) =>
      `<rect x="${W - PAD.right - 150}" y="${8 + k * 14}" width="10" height="10" class="swatch ${s.kind}"/>` +
      `<text x="${W - PAD.right - 134}" y="${17 + k * 14}" class="tick">${escapeHtml(s.label)}</text>`,
  )
  return [
    `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(chart.title)}">`,
    `<text x="${PAD.left}" y="20" class="heading">${escapeHtml(chart.title)}</text>`,
    ...grid,
    ...xAxis,
    `<text x="${num((W + PAD.left) / 2)}" y="${H - 6}" text-anchor="middle" class="axis">${escapeHtml(chart.xLabel)}</text>`,
    `<text x="14" y="${num(H / 2)}" text-anchor="middle" class="axis" transform="rotate(-90 14 ${num(H / 2)})">${escapeHtml(chart.yLabel)}</text>`,
    ...drawn,
    ...legend,
    '</svg>',
  ].join('\n')
}

export interface Bar {
  label: string
  value: number
  /** what is written after the bar */
  text: string
  /** drawn in the fence colour */
  highlight: boolean
}

const BAR_H = 22
const LABEL_W = 170
const TEXT_W = 190

/** Horizontal bars, one a row, longest first as given; a note when there is nothing to show. */
export function barChart(title: string, bars: readonly Bar[]): string {
  if (bars.length === 0)
    return `<svg class="chart" viewBox="0 0 ${W} 60" role="img"><text x="12" y="34" class="note">${escapeHtml(title)}: nothing crossed a link</text></svg>`
  const most = Math.max(...bars.map((b) => b.value), 1)
  const span = W - LABEL_W - TEXT_W
  const height = 34 + bars.length * BAR_H + 8
  const rows = bars.map((b, k) => {
    const y = 34 + k * BAR_H
    const w = Math.max(1, (b.value / most) * span)
    return (
      `<text x="${LABEL_W - 8}" y="${y + 15}" text-anchor="end" class="tick">${escapeHtml(b.label)}</text>` +
      `<rect x="${LABEL_W}" y="${y + 3}" width="${num(w)}" height="${BAR_H - 6}" class="bar${b.highlight ? ' fence' : ''}"/>` +
      `<text x="${num(LABEL_W + w + 6)}" y="${y + 15}" class="tick">${escapeHtml(b.text)}</text>`
    )
  })
  return [
    `<svg class="chart" viewBox="0 0 ${W} ${height}" role="img" aria-label="${escapeHtml(title)}">`,
    `<text x="12" y="20" class="heading">${escapeHtml(title)}</text>`,
    ...rows,
    '</svg>',
  ].join('\n')
}

function tickText(value: number): string {
  if (value === 0) return '0'
  const magnitude = Math.abs(value)
  return magnitude >= 1000 || magnitude < 0.01 ? value.toExponential(1) : String(+value.toPrecision(3))
}
