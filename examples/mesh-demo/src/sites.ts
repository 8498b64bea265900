/** Three peers on this machine, joined by emulated links of very different speed. */
import { AtollMesh, createNode, type LinkShape, type ProbeResult } from '@atoll/net'

export interface Site {
  name: string
  mesh: AtollMesh
}

/** An undirected emulated link: rate and one-way delay, applied by both ends. */
export interface SiteLink {
  a: string
  b: string
  mbit: number
  delayMs: number
}

/** A lab, a cloud region and a home, as a geo-distributed job would see them. */
export const SITE_LINKS: readonly SiteLink[] = [
  { a: 'lab', b: 'cloud', mbit: 200, delayMs: 5 },
  { a: 'cloud', b: 'home', mbit: 20, delayMs: 15 },
  { a: 'lab', b: 'home', mbit: 10, delayMs: 25 },
]

/** Starts one libp2p node per site on loopback, shapes every link at both ends and connects them. */
export async function startSites(links: readonly SiteLink[]): Promise<Site[]> {
  const names = [...new Set(links.flatMap((l) => [l.a, l.b]))]
  const sites: Site[] = []
  for (const name of names) {
    const mesh = new AtollMesh(await createNode({ listen: ['/ip4/127.0.0.1/tcp/0'], webrtc: false }))
    await mesh.start()
    sites.push({ name, mesh })
  }
  const byName = new Map(sites.map((s) => [s.name, s.mesh]))
  for (const l of links) {
    const [a, b] = [byName.get(l.a)!, byName.get(l.b)!]
    const shape: LinkShape = { rateBytesPerSecond: (l.mbit * 1e6) / 8, delayMs: l.delayMs }
    a.links.set(b.peerId, shape)
    b.links.set(a.peerId, shape)
    await a.node.dial(b.node.getMultiaddrs())
  }
  return sites
}

export async function stopSites(sites: readonly Site[]): Promise<void> {
  await Promise.all(sites.map((s) => s.mesh.stop(1_000)))
}

/** A link as measured by `/atoll/tensor/1`'s sibling `/atoll/probe/1` (about a second each). */
export interface MeasuredLink {
  a: string
  b: string
  mbit: number
  rttMs: number
}

export async function measureLinks(
  sites: readonly Site[],
  links: readonly SiteLink[],
): Promise<MeasuredLink[]> {
  const mesh = (name: string) => sites.find((s) => s.name === name)!.mesh
  const measured: MeasuredLink[] = []
  for (const l of links) {
    const r: ProbeResult = await mesh(l.a).probe.probe(mesh(l.b).node.peerId)
    measured.push({ a: l.a, b: l.b, mbit: (r.bytesPerSecond * 8) / 1e6, rttMs: r.rttMs })
  }
  return measured
}

/** The order of the sites along the pipeline whose slowest consecutive link is fastest. */
export function chainOrder(names: readonly string[], links: readonly MeasuredLink[]): string[] {
  const speed = (a: string, b: string) =>
    links.find((l) => (l.a === a && l.b === b) || (l.a === b && l.b === a))?.mbit ?? 0
  const slowest = (order: string[]) => Math.min(...order.slice(1).map((n, i) => speed(order[i], n)))
  return permutations([...names]).reduce((best, o) => (slowest(o) > slowest(best) ? o : best))
}

function permutations(xs: string[]): string[][] {
  if (xs.length <= 1) return [xs]
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]))
}
