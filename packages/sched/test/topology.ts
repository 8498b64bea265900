import type { LinkProfile, OpCost, PeerProfile } from '../src/index.ts'

/** Peers of `sites` sites, listed in join order (site-interleaved), full mesh of links. */
export function geo(
  sites: number,
  perSite: number,
  opts: {
    insideBps: number
    betweenBps: number | ((a: number, b: number) => number)
    flops?: number
    memoryBytes?: number
  },
): { peers: PeerProfile[]; links: LinkProfile[] } {
  const peers: PeerProfile[] = []
  for (let i = 0; i < perSite; i++) {
    for (let s = 0; s < sites; s++) {
      peers.push({
        id: `s${s}p${i}`,
        device: 'cpu',
        flops: opts.flops ?? 1e12,
        memoryBytes: opts.memoryBytes ?? 16e9,
      })
    }
  }
  const site = (p: PeerProfile) => Number(p.id.slice(1, p.id.indexOf('p')))
  const links: LinkProfile[] = []
  for (let i = 0; i < peers.length; i++) {
    for (let j = i + 1; j < peers.length; j++) {
      const [a, b] = [site(peers[i]), site(peers[j])]
      const between = typeof opts.betweenBps === 'function' ? opts.betweenBps(a, b) : opts.betweenBps
      links.push({
        a: peers[i].id,
        b: peers[j].id,
        bandwidthBps: a === b ? opts.insideBps : between,
        rttSeconds: a === b ? 0.0005 : 0.05,
      })
    }
  }
  return { peers, links }
}

/** A chain of `layers` layers (two ops each: a MatMul and an activation) with a skip edge per layer. */
export function chainModel(
  layers: number,
  opts: {
    flops?: number | ((l: number) => number)
    paramBytes?: number
    outputBytes?: number | ((l: number) => number)
  } = {},
): OpCost[] {
  const ops: OpCost[] = []
  for (let l = 0; l < layers; l++) {
    const flops = typeof opts.flops === 'function' ? opts.flops(l) : (opts.flops ?? 1e12)
    const out = typeof opts.outputBytes === 'function' ? opts.outputBytes(l) : (opts.outputBytes ?? 4e6)
    const prev = l === 0 ? [] : [`l${l - 1}.act`]
    ops.push({
      id: `l${l}.mm`,
      opType: 'MatMul',
      scope: `h.${l}.mlp`,
      flops,
      paramBytes: opts.paramBytes ?? 1e6,
      outputBytes: out,
      inputs: prev,
    })
    ops.push({
      id: `l${l}.act`,
      opType: 'MatMul',
      scope: `h.${l}.mlp`,
      flops: 0,
      paramBytes: 0,
      outputBytes: out,
      inputs: [`l${l}.mm`],
    })
  }
  return ops
}
