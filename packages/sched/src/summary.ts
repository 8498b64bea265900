import type { Plan } from './types.ts'

const GB = 1e9
const MB = 1e6

/** A readable account of a plan: which layers on which peers, what crosses each fence, at which ratio. */
export function formatPlan(plan: Plan, baseline?: Plan): string {
  const p = plan.predicted
  const lines = [
    `${plan.algorithm}: ${plan.stages.length} stage(s) on ${plan.clusters.length || plan.stages.length} cluster(s), ${plan.microBatches} micro-batches`,
    `predicted step ${p.stepSeconds.toFixed(3)} s (pipeline ${p.breakdown.pipelineSeconds.toFixed(3)} s + tied weights ${p.breakdown.tiedSeconds.toFixed(3)} s + per step ${p.breakdown.stepOverheadSeconds.toFixed(3)} s + sync ${p.breakdown.syncSeconds.toFixed(3)} s), slot ${p.slotSeconds.toFixed(4)} s set by ${p.bottleneck}`,
  ]
  if (baseline !== undefined) {
    const b = baseline.predicted.stepSeconds
    lines.push(
      `${baseline.algorithm} baseline: ${b.toFixed(3)} s — ${(b / p.stepSeconds).toFixed(2)}× slower`,
    )
  }
  plan.clusters.forEach((c, i) => {
    lines.push(
      `cluster ${i}: ${c.peers.length} peer(s) (${abbreviate(c.peers)}), inner link ${c.peers.length > 1 ? `${(c.innerBandwidthBps / MB).toFixed(0)} MB/s` : '—'}`,
    )
  })
  for (const s of plan.stages) {
    lines.push(
      `stage ${s.index}${s.cluster >= 0 ? ` [cluster ${s.cluster}]` : ''}: layers ${range(s.layers)} (${s.ops.length} ops) on ${abbreviate(s.peers)}; compute ${(s.computeSeconds * 1e3).toFixed(1)} ms/mb, ${(s.memoryBytesPerPeer / GB).toFixed(2)} GB/peer${s.fitsMemory ? '' : ' (MORE THAN THE PEER HAS)'}, sync ${(s.syncSeconds * 1e3).toFixed(1)} ms`,
    )
    if (s.syncSchedule !== undefined) {
      const when = Object.entries(s.syncSchedule).map(([layer, its]) => `${layer}@${its.join('/')}`)
      lines.push(`  DreamDDP, H = ${plan.sync.period}: ${when.join(' ')}`)
    }
    const e = plan.edges.find((x) => x.from === s.index)
    if (e !== undefined) {
      const codec = e.codec === 'topk-fp16' ? `${e.codec} keep ${(e.keepRatio * 100).toFixed(1)} %` : e.codec
      lines.push(
        `  ${e.crossesFence ? 'fence' : 'edge '} ${e.from}→${e.to}: ${(e.bytes / MB).toFixed(2)} MB/mb at ${(e.bandwidthBps / MB).toFixed(1)} MB/s, ${codec}, ${(e.seconds * 1e3).toFixed(1)} ms`,
      )
    }
  }
  return lines.join('\n')
}

const BYTE_UNITS = ['bytes', 'kB', 'MB', 'GB', 'TB'] as const

/** Bytes in the largest decimal unit that leaves at least 1, with 3 significant digits: `1.25 GB`. */
export function bytesText(bytes: number): string {
  let unit = 0
  while (unit + 1 < BYTE_UNITS.length && bytes >= 1000 ** (unit + 1)) unit++
  return unit === 0 ? `${bytes} bytes` : `${(bytes / 1000 ** unit).toPrecision(3)} ${BYTE_UNITS[unit]}`
}

function range(layers: readonly string[]): string {
  return layers.length <= 2 ? layers.join(', ') : `${layers[0]} … ${layers.at(-1)} (${layers.length})`
}

function abbreviate(ids: readonly string[]): string {
  return ids.length <= 4 ? ids.join(', ') : `${ids.slice(0, 3).join(', ')} … +${ids.length - 3}`
}
