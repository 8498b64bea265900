import { escapeHtml, rateText } from '@atoll/peer'
import type { SiteLink, Topology, TopologyPeer, TopologySite } from './topology.ts'

/** Drawing constants: a site is a box of peers (at most PER_ROW a row), sites sit on a circle. */
const MARGIN = 24
const HEADER_H = 70
const MIN_WIDTH = 480
const RING = 170
const PER_ROW = 3
const PEER_W = 78
const PEER_H = 66
const PEER_R = 16
const PAD = 16
const TITLE_H = 40
const FILLS = ['#e8f1fb', '#eaf7ec', '#fdf1e4', '#f3ecfa', '#fbe9ee', '#eef6f6']
const STROKES = ['#3b78c4', '#3f9a52', '#d07b1c', '#7d55b5', '#c2456b', '#3a8f8f']

interface Box {
  site: TopologySite
  x: number
  y: number
  w: number
  h: number
  index: number
}

const esc = escapeHtml

/** `1000` → `1 Gbit/s`, `8` → `8 Mbit/s` (the job report's wording, rateText). */
export function formatRate(mbit: number): string {
  return rateText((mbit * 1e6) / 8)
}

/** Boxes on a circle big enough for them, then moved so that all sit below the title with a margin. */
function boxes(t: Topology): Box[] {
  const sized = t.sites.map((site, index) => {
    const cols = Math.min(site.peers.length, PER_ROW)
    const rows = Math.ceil(site.peers.length / PER_ROW)
    return { site, index, w: cols * PEER_W + 2 * PAD, h: rows * PEER_H + TITLE_H + PAD, x: 0, y: 0 }
  })
  const ring = t.sites.length === 1 ? 0 : Math.max(RING, ...sized.map((b) => Math.max(b.w * 0.8, b.h * 1.2)))
  for (const b of sized) {
    // the first site at the top, the others clockwise; wider than tall, like a page
    const angle = -Math.PI / 2 + (2 * Math.PI * b.index) / t.sites.length
    b.x = ring * Math.cos(angle) * 1.25 - b.w / 2
    b.y = ring * Math.sin(angle) - b.h / 2
  }
  const minX = Math.min(...sized.map((b) => b.x))
  const minY = Math.min(...sized.map((b) => b.y))
  for (const b of sized) {
    b.x += MARGIN - minX
    b.y += HEADER_H - minY
  }
  return sized
}

function linkSvg(link: SiteLink, all: Box[]): string {
  const [a, b] = link.sites.map((name) => all.find((x) => x.site.name === name)!)
  const [ax, ay, bx, by] = [a.x + a.w / 2, a.y + a.h / 2, b.x + b.w / 2, b.y + b.h / 2]
  // thicker for faster links, on a log scale (8 Mbit/s … 10 Gbit/s → 1.5 … 9 px)
  const width = 1.5 + Math.max(0, Math.log10(link.rateMbit / 8)) * 2.4
  const label = formatRate(link.rateMbit) + (link.latencyMs ? ` · ${link.latencyMs} ms` : '')
  const mx = (ax + bx) / 2
  const my = (ay + by) / 2
  const lw = label.length * 7 + 14
  return [
    `<line x1="${ax}" y1="${ay}" x2="${bx}" y2="${by}" stroke="#7a8594" stroke-width="${width.toFixed(1)}" stroke-linecap="round"/>`,
    `<rect x="${mx - lw / 2}" y="${my - 12}" width="${lw}" height="24" rx="12" fill="#ffffff" stroke="#7a8594"/>`,
    `<text x="${mx}" y="${my + 4.5}" text-anchor="middle" class="link">${esc(label)}</text>`,
  ].join('\n')
}

function peerSvg(peer: TopologyPeer, x: number, y: number, stroke: string): string {
  const access =
    peer.upMbit === undefined && peer.downMbit === undefined
      ? ''
      : peer.upMbit === peer.downMbit
        ? formatRate(peer.upMbit!)
        : `↑${formatRate(peer.upMbit ?? Infinity)} ↓${formatRate(peer.downMbit ?? Infinity)}`
  return [
    `<circle cx="${x}" cy="${y}" r="${PEER_R}" fill="#ffffff" stroke="${stroke}" stroke-width="2"/>`,
    `<text x="${x}" y="${y + PEER_R + 14}" text-anchor="middle" class="peer">${esc(peer.name)}</text>`,
    access === ''
      ? ''
      : `<text x="${x}" y="${y + PEER_R + 27}" text-anchor="middle" class="access">${esc(access)}</text>`,
  ].join('\n')
}

function siteSvg(box: Box): string {
  const fill = FILLS[box.index % FILLS.length]
  const stroke = STROKES[box.index % STROKES.length]
  const peers = box.site.peers.map((p, k) => {
    const col = k % PER_ROW
    const row = Math.floor(k / PER_ROW)
    return peerSvg(
      p,
      box.x + PAD + PEER_W * col + PEER_W / 2,
      box.y + TITLE_H + PEER_R + row * PEER_H,
      stroke,
    )
  })
  return [
    `<rect x="${box.x}" y="${box.y}" width="${box.w}" height="${box.h}" rx="14" fill="${fill}" stroke="${stroke}" stroke-width="2"/>`,
    `<text x="${box.x + box.w / 2}" y="${box.y + 20}" text-anchor="middle" class="site">${esc(box.site.name)}</text>`,
    `<text x="${box.x + box.w / 2}" y="${box.y + 34}" text-anchor="middle" class="rate">${formatRate(box.site.rateMbit)} inside</text>`,
    ...peers,
  ].join('\n')
}

/** An SVG picture of the topology: sites as boxes of peers, wide-area links labelled with rate and latency. */
export function topologySvg(topology: Topology): string {
  const all = boxes(topology)
  const peers = topology.sites.reduce((n, s) => n + s.peers.length, 0)
  const WIDTH = Math.max(MIN_WIDTH, ...all.map((b) => b.x + b.w + MARGIN))
  const HEIGHT = Math.max(...all.map((b) => b.y + b.h + MARGIN))
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="Helvetica, Arial, sans-serif">`,
    '<style>.title{font-size:18px;font-weight:bold;fill:#1d2733}.sub{font-size:12px;fill:#5b6573}' +
      '.site{font-size:14px;font-weight:bold;fill:#1d2733}.rate{font-size:11px;fill:#5b6573}' +
      '.peer{font-size:12px;fill:#1d2733}.access{font-size:10px;fill:#5b6573}.link{font-size:12px;fill:#1d2733}</style>',
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="20" y="30" class="title">${esc(topology.name)}</text>`,
    `<text x="20" y="48" class="sub">${topology.sites.length} site(s), ${peers} peer(s); rates are per direction</text>`,
    ...topology.links.map((l) => linkSvg(l, all)),
    ...all.map(siteSvg),
    '</svg>',
    '',
  ].join('\n')
}
