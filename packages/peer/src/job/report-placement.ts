/**
 * The placement drawn over the clusters, for a job's report: each planner cluster a box (named after
 * the site that holds its peers when the caller knows the sites) with its inner link's bandwidth,
 * its peers inside with the stage each runs, and every boundary as an arrow from stage to stage,
 * labelled with its codec, keep ratio and link - a fence edge dashed in the fence colour.
 */
import { bytesText } from '@atoll/sched'
import { escapeHtml, num } from './report-svg.ts'
import type { TrainSummary } from './train.ts'

/** Sites as the caller built them (peer names), to name the planner's clusters after. */
export interface SiteNames {
  name: string
  peers: string[]
}

const PEER_W = 150
const PEER_H = 84
const GAP_IN = 190
const GAP_OUT = 250
const PAD = 16
const HEADER = 46
const ARC = 70
const MARGIN = 20

interface PeerBox {
  id: string
  x: number
  y: number
  stage: number
}

/** Megabits per second from bytes per second, as links are usually quoted. */
export function rateText(bytesPerSecond: number): string {
  const mbit = (bytesPerSecond * 8) / 1e6
  return mbit >= 1000 ? `${+(mbit / 1000).toFixed(2)} Gbit/s` : `${+mbit.toPrecision(3)} Mbit/s`
}

/** The cluster's name: the one site that holds every peer of it, else `cluster k`. */
function clusterName(names: readonly string[], index: number, sites: readonly SiteNames[]): string {
  const site = sites.find((s) => names.length > 0 && names.every((n) => s.peers.includes(n)))
  return site === undefined ? `cluster ${index}` : `site ${site.name}`
}

/** Clusters in the order of the first stage each holds; inside one, its stages' peers in stage order. */
function layout(summary: TrainSummary) {
  const { clusters, stages } = summary.plan
  const stageOf = (id: string) => stages.findIndex((s) => s.peer === id)
  const firstStage = (peers: readonly string[]) =>
    Math.min(...peers.map((p) => stageOf(p)).map((s) => (s < 0 ? Number.POSITIVE_INFINITY : s)))
  const groups = (
    clusters.length > 0 ? clusters : [{ peers: stages.map((s) => s.peer), inner_bandwidth_bps: 0 }]
  )
    .map((c, index) => ({ ...c, index }))
    .sort((a, b) => firstStage(a.peers) - firstStage(b.peers))
  const orders = groups.map((g) => [...g.peers].sort((a, b) => rank(stageOf(a)) - rank(stageOf(b))))
  const row = orders.flat()
  const slot = (stage: number) => row.indexOf(stages[stage]?.peer ?? '')
  const arcs = summary.plan.edges.some((e) => Math.abs(slot(e.from) - slot(e.to)) !== 1)
  const top = MARGIN + (arcs ? ARC : 24)
  let x = MARGIN
  const boxes = groups.map((g, k) => {
    const order = orders[k]
    const width = 2 * PAD + order.length * PEER_W + Math.max(0, order.length - 1) * GAP_IN
    const peers: PeerBox[] = order.map((id, k) => ({
      id,
      x: x + PAD + k * (PEER_W + GAP_IN),
      y: top + HEADER,
      stage: stageOf(id),
    }))
    const box = { ...g, x, y: top, width, height: HEADER + PEER_H + PAD, peers }
    x += width + GAP_OUT
    return box
  })
  return { boxes, slot, width: x - GAP_OUT + MARGIN, height: top + HEADER + PEER_H + PAD + MARGIN + 30 }
}

const rank = (stage: number) => (stage < 0 ? Number.POSITIVE_INFINITY : stage)

function codecText(edge: TrainSummary['plan']['edges'][number]): string {
  if (edge.codec === 'topk-fp16') return `top-k fp16, keep ${+(edge.keepRatio * 100).toPrecision(3)} %`
  return edge.codec === 'dense' ? 'dense fp32' : `${edge.codec}, every element`
}

function peerSvg(p: PeerBox, summary: TrainSummary): string {
  const peer = summary.peers.find((x) => x.id === p.id)
  const stage = summary.plan.stages[p.stage]
  const layers = stage?.layers ?? []
  const held = layers.length <= 3 ? layers.join(', ') : `${layers[0]} … ${layers.at(-1)} (${layers.length})`
  const cx = p.x + PEER_W / 2
  return [
    `<rect x="${num(p.x)}" y="${num(p.y)}" width="${PEER_W}" height="${PEER_H}" rx="10" class="peer${stage ? '' : ' idle'}"/>`,
    `<text x="${num(cx)}" y="${num(p.y + 22)}" text-anchor="middle" class="peername">${escapeHtml(peer?.name ?? p.id.slice(-8))}</text>`,
    `<text x="${num(cx)}" y="${num(p.y + 42)}" text-anchor="middle" class="stage">${stage ? `stage ${p.stage}` : 'no stage'}</text>`,
    `<text x="${num(cx)}" y="${num(p.y + 58)}" text-anchor="middle" class="tick">${escapeHtml(held)}</text>`,
    `<text x="${num(cx)}" y="${num(p.y + 74)}" text-anchor="middle" class="tick">${escapeHtml(peer ? `${peer.device}, ${+(peer.flops / 1e9).toPrecision(3)} GFLOP/s` : '')}</text>`,
  ].join('\n')
}

/** A boundary as an arrow: straight between neighbours in the row, an arc over the peers between otherwise. */
function edgeSvg(
  edge: TrainSummary['plan']['edges'][number],
  at: Map<number, PeerBox>,
  near: boolean,
): string {
  const [a, b] = [at.get(edge.from), at.get(edge.to)]
  if (a === undefined || b === undefined) return ''
  const rightward = a.x < b.x
  const y = a.y + PEER_H / 2
  const [x1, x2] = rightward ? [a.x + PEER_W, b.x - 2] : [a.x, b.x + PEER_W + 2]
  const cls = `edge${edge.crossesFence ? ' fence' : ''}`
  const labels = [
    `${edge.crossesFence ? 'fence ' : ''}${edge.from}→${edge.to}: ${codecText(edge)}`,
    `${rateText(edge.bandwidthBps)} · ${bytesText(edge.bytes)}/micro-batch`,
  ]
  const [lx, ly, path] = near
    ? [(x1 + x2) / 2, y - 12, `M${num(x1)},${num(y)} L${num(x2)},${num(y)}`]
    : [
        (a.x + b.x + PEER_W) / 2,
        a.y - ARC + 6,
        `M${num(a.x + PEER_W / 2)},${num(a.y)} Q${num((a.x + b.x + PEER_W) / 2)},${num(a.y - 2 * ARC + 20)} ${num(b.x + PEER_W / 2)},${num(b.y - 2)}`,
      ]
  return [
    `<path d="${path}" class="${cls}" marker-end="url(#arrow)"/>`,
    ...labels.map(
      (t, k) =>
        `<text x="${num(lx)}" y="${num(ly - (labels.length - 1 - k) * 13)}" text-anchor="middle" class="edgelabel${edge.crossesFence ? ' fence' : ''}">${escapeHtml(t)}</text>`,
    ),
  ].join('\n')
}

/** The placement picture: cluster boxes, peers with their stages, boundaries as labelled arrows. */
export function placementSvg(summary: TrainSummary, sites: readonly SiteNames[] = []): string {
  const { boxes, slot, width, height } = layout(summary)
  const nameOf = (id: string) => summary.peers.find((p) => p.id === id)?.name ?? id
  const at = new Map(
    boxes
      .flatMap((b) => b.peers)
      .filter((p) => p.stage >= 0)
      .map((p) => [p.stage, p]),
  )
  const clusters = boxes.map((b) =>
    [
      `<rect x="${num(b.x)}" y="${num(b.y)}" width="${num(b.width)}" height="${num(b.height)}" rx="14" class="cluster c${b.index % 4}"/>`,
      `<text x="${num(b.x + 14)}" y="${num(b.y + 20)}" class="heading">${escapeHtml(
        clusterName(
          b.peers.map((p) => nameOf(p.id)),
          b.index,
          sites,
        ),
      )}</text>`,
      `<text x="${num(b.x + 14)}" y="${num(b.y + 36)}" class="tick">${b.peers.length > 1 ? `links inside ${escapeHtml(rateText(b.inner_bandwidth_bps))}` : 'one peer'}</text>`,
      ...b.peers.map((p) => peerSvg(p, summary)),
    ].join('\n'),
  )
  return [
    `<svg class="placement" viewBox="0 0 ${num(width)} ${num(height)}" role="img" aria-label="placement">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>',
    ...clusters,
    ...summary.plan.edges.map((e) => edgeSvg(e, at, Math.abs(slot(e.from) - slot(e.to)) === 1)),
    `<text x="${MARGIN}" y="${num(height - 12)}" class="tick">${escapeHtml(`${summary.plan.algorithm}: ${summary.plan.stages.length} stage(s) on ${boxes.length} cluster(s); arrows carry activations forward and their gradients back`)}</text>`,
    '</svg>',
  ].join('\n')
}
