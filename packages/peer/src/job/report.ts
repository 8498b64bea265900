/**
 * A job's report, OUT/report.html: one self-contained page (inline SVG and CSS, no script, nothing
 * fetched) made from the TrainSummary alone - the loss curve with the held-out points, the placement
 * drawn over the clusters, the bytes each link carried, and the predicted against the measured step
 * time. Every string that reaches the page is escaped: peer names come from the network.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { bytesText } from '@atoll/sched'
import { placementSvg, rateText, type SiteNames } from './report-placement.ts'
import { type Bar, barChart, escapeHtml, lineChart } from './report-svg.ts'
import type { TrainSummary } from './train.ts'

export { rateText } from './report-placement.ts'
export { escapeHtml } from './report-svg.ts'

export interface ReportExtra {
  /** the page's heading (default: the job's name) */
  title?: string
  /** the sites the mesh was built from (peer names): a cluster whose peers one site holds is named after it */
  sites?: SiteNames[]
  /** lines under the heading: how the run was made */
  notes?: string[]
}

export const REPORT_FILE = 'report.html'

/** Writes `dir`/report.html for `summary` and returns its path. */
export async function writeReport(
  dir: string,
  summary: TrainSummary,
  extra: ReportExtra = {},
): Promise<string> {
  const path = join(dir, REPORT_FILE)
  await writeFile(path, reportHtml(summary, extra))
  return path
}

/** The report page as text. */
export function reportHtml(summary: TrainSummary, extra: ReportExtra = {}): string {
  const title = extra.title ?? `atoll job ${summary.job}`
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head><body><main>',
    `<h1>${escapeHtml(title)}</h1>`,
    ...(extra.notes ?? []).map((n) => `<p class="note">${escapeHtml(n)}</p>`),
    figures(summary),
    '<h2>Loss</h2>',
    lossChart(summary),
    '<h2>Placement</h2>',
    placementSvg(summary, extra.sites),
    stageTable(summary),
    '<h2>Bytes per link</h2>',
    linkBars(summary),
    linkTable(summary),
    '<h2>Step time: predicted and measured</h2>',
    stepChart(summary),
    '</main></body></html>',
    '',
  ].join('\n')
}

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '—'
}

function figures(s: TrainSummary): string {
  const heldOut = s.eval.at(-1)
  const error = Math.abs(s.plan.predicted_step_seconds - s.measured_step_seconds) / s.measured_step_seconds
  const total = Object.values(s.link_bytes).reduce((a, b) => a + b, 0)
  const cells = [
    ['steps', String(s.steps)],
    ['training loss', `${fixed(s.loss_first, 3)} → ${fixed(s.loss_last, 3)}`],
    ['held-out loss', heldOut ? `${fixed(heldOut.loss, 3)} at step ${heldOut.step}` : '—'],
    [
      'step time',
      `${fixed(s.measured_step_seconds, 3)} s measured, ${fixed(s.plan.predicted_step_seconds, 3)} s predicted (${Number.isFinite(error) ? `${Math.round(error * 100)} % off` : '—'})`,
    ],
    ['bytes on the links', bytesText(total)],
  ]
  return `<dl class="figures">${cells.map(([k, v]) => `<div><dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd></div>`).join('')}</dl>`
}

function lossChart(s: TrainSummary): string {
  return lineChart({
    title: 'loss per step',
    xLabel: 'step',
    yLabel: 'loss',
    series: [
      { label: 'training (per step)', kind: 'train', points: s.losses.map((l, k) => [k + 1, l] as const) },
      { label: 'held-out', kind: 'eval', dots: true, points: s.eval.map((e) => [e.step, e.loss] as const) },
    ],
  })
}

function stepChart(s: TrainSummary): string {
  const steps = s.step_seconds.length
  return lineChart({
    title: 'seconds per step',
    xLabel: 'step',
    yLabel: 'seconds',
    fromZero: true,
    series: [
      { label: 'measured', kind: 'measured', points: s.step_seconds.map((t, k) => [k + 1, t] as const) },
      {
        label: 'predicted by the plan',
        kind: 'predicted',
        dashed: true,
        points:
          steps > 0
            ? [[1, s.plan.predicted_step_seconds] as const, [steps, s.plan.predicted_step_seconds] as const]
            : [],
      },
    ],
  })
}

/** The cluster of the peer named `name` (names key link_bytes), or -1. */
function clusterOfName(s: TrainSummary, name: string): number {
  const id = s.peers.find((p) => p.name === name)?.id
  return s.plan.clusters.findIndex((c) => id !== undefined && c.peers.includes(id))
}

function linkBars(s: TrainSummary): string {
  const bars: Bar[] = Object.entries(s.link_bytes)
    .sort((a, b) => b[1] - a[1])
    .map(([link, bytes]) => {
      const [from, to] = link.split('→')
      const crosses = clusterOfName(s, from ?? '') !== clusterOfName(s, to ?? '')
      const perStep = s.steps > 0 ? `, ${bytesText(Math.round(bytes / s.steps))}/step` : ''
      return {
        label: link,
        value: bytes,
        text: `${bytesText(bytes)}${perStep}${crosses ? ' (fence)' : ''}`,
        highlight: crosses,
      }
    })
  return barChart('payload bytes each peer sent each other peer, all steps', bars)
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = (r: readonly string[], tag: string) =>
    r.map((c) => `<${tag}>${escapeHtml(c)}</${tag}>`).join('')
  return `<table><thead><tr>${cells(head, 'th')}</tr></thead><tbody>${rows.map((r) => `<tr>${cells(r, 'td')}</tr>`).join('')}</tbody></table>`
}

function stageTable(s: TrainSummary): string {
  return table(
    ['stage', 'peer', 'cluster', 'layers', 'boundary out'],
    s.plan.stages.map((st, k) => {
      const edge = s.plan.edges.find((e) => e.from === k)
      const out = edge
        ? `${edge.crossesFence ? 'fence, ' : ''}${edge.codec}${edge.codec === 'topk-fp16' ? ` keep ${+(edge.keepRatio * 100).toPrecision(3)} %` : ''}`
        : '—'
      return [String(k), st.name, String(st.cluster), st.layers.join(', '), out]
    }),
  )
}

function linkTable(s: TrainSummary): string {
  const name = (id: string) => s.peers.find((p) => p.id === id)?.name ?? id
  return table(
    ['link', 'bandwidth (probed)', 'RTT'],
    s.links.map((l) => [
      `${name(l.a)} – ${name(l.b)}`,
      rateText(l.bandwidth_bps),
      `${fixed(l.rtt_seconds * 1000, 1)} ms`,
    ]),
  )
}

const STYLE = [
  'body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1d2733;background:#fff;margin:0}',
  'main{max-width:1100px;margin:0 auto;padding:24px}',
  'h1{font-size:24px;margin:0 0 8px}h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid #dde3ea;padding-bottom:4px}',
  '.note{color:#5b6573;margin:2px 0}',
  '.figures{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}.figures div{background:#f4f7fa;border-radius:8px;padding:8px 14px}',
  '.figures dt{font-size:12px;color:#5b6573}.figures dd{margin:2px 0 0;font-size:16px;font-weight:600}',
  'svg{width:100%;height:auto;display:block;margin:8px 0}svg.chart{max-width:760px}',
  'svg text{font-size:12px;fill:#1d2733}.heading{font-size:14px;font-weight:600}.tick{font-size:11px;fill:#4a5563}',
  '.axis{font-size:12px;fill:#4a5563}.grid{stroke:#e3e8ee}',
  '.train{stroke:#3b78c4;fill:#3b78c4}.eval{fill:#d07b1c;stroke:#d07b1c}.measured{stroke:#3f9a52;fill:#3f9a52}.predicted{stroke:#7d55b5;fill:#7d55b5}',
  // after the colours, which set fill too (for dots and swatches): a line is never filled
  '.line{fill:none;stroke-width:2}.dashed{stroke-dasharray:6 4}.dot{stroke:#fff;stroke-width:1.5}.swatch{stroke:none}',
  '.bar{fill:#3b78c4}.bar.fence{fill:#c2456b}',
  '.cluster{stroke-width:2}.c0{fill:#e8f1fb;stroke:#3b78c4}.c1{fill:#eaf7ec;stroke:#3f9a52}.c2{fill:#fdf1e4;stroke:#d07b1c}.c3{fill:#f3ecfa;stroke:#7d55b5}',
  '.peer{fill:#fff;stroke:#5b6573;stroke-width:1.5}.peer.idle{stroke-dasharray:4 3;fill:#f7f7f7}',
  '.peername{font-size:14px;font-weight:600}.stage{font-size:12px;fill:#3b4654;font-weight:600}',
  '.edge{fill:none;stroke:#5b6573;stroke-width:2}.edge.fence{stroke:#c2456b;stroke-width:3;stroke-dasharray:8 5}',
  '.arrowhead{fill:#5b6573}.edgelabel{font-size:11px}.edgelabel.fence{fill:#a3234b;font-weight:600}',
  'table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border-bottom:1px solid #e3e8ee;padding:4px 10px;text-align:left}',
  'th{color:#5b6573;font-weight:600}',
].join('\n')
