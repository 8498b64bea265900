/**
 * What the demo shows while it runs: the links as probed, the plan by peer name (stages on peers,
 * which boundaries cross the fence and at which keep ratio, the predicted step time), and a live line
 * per step - redrawn in place on a terminal, with a line kept every K steps.
 */
import { membershipLine, rateText, type TrainEvent } from '@atoll/peer'
import { bytesText } from '@atoll/sched'
import { siteOf } from './sites.ts'

type PlanEvent = Extract<TrainEvent, { kind: 'plan' }>
type StepEvent = Extract<TrainEvent, { kind: 'step' }>

export interface ViewOptions {
  steps: number
  logEvery: number
  /** a terminal: the step line is redrawn in place */
  tty: boolean
  write(text: string): void
}

/** The event handler that prints the run. */
export function demoView(options: ViewOptions): (event: TrainEvent) => void {
  const { steps, logEvery, tty, write } = options
  const names = new Map<string, string>()
  const name = (id: string) => names.get(id) ?? id.slice(-6)
  let probed = -1
  let live = false
  const line = (text: string) => {
    write(`${live ? '\r\x1b[K' : ''}${text}\n`)
    live = false
  }
  return (event) => {
    if (event.kind === 'links') {
      if (event.measured !== probed) line(`links probed: ${event.measured} of ${event.total}`)
      probed = event.measured
    } else if (event.kind === 'plan') {
      for (const p of event.profile.peers) names.set(p.id, p.name)
      for (const l of planLines(event, name)) line(l)
    } else if (event.kind === 'step') {
      const text = stepLine(event, steps, name)
      const done = event.result.step + 1
      if (done % logEvery === 0 || done === steps) line(text)
      else if (tty) {
        write(`\r\x1b[K${text}`)
        live = true
      }
    } else if (event.kind === 'eval') line(`held-out loss after step ${event.step}: ${event.loss.toFixed(3)}`)
    else if (event.kind === 'checkpoint') line(`checkpoint after step ${event.step} in ${event.dir}`)
    else line(membershipLine(event, name))
  }
}

/** The plan as the demo prints it: by peer name, every boundary with its codec and link. */
export function planLines(event: PlanEvent, name: (id: string) => string): string[] {
  const { plan, stages } = event.placement
  const lines = ['', 'links as the daemons probed them:']
  for (const l of event.profile.links)
    lines.push(
      `  ${name(l.a)} – ${name(l.b)}  ${rateText(l.bandwidthBps)}, RTT ${(l.rttSeconds * 1e3).toFixed(1)} ms`,
    )
  const clusters = plan.clusters.map((c) => `{${c.peers.map(name).join(', ')}}`).join(' ')
  lines.push('', `plan (${plan.algorithm}): ${plan.clusters.length} clusters from the links, ${clusters}`)
  stages.forEach((s, k) => {
    const peer = name(s.peer)
    const layers = plan.stages[k]?.layers ?? []
    lines.push(`  stage ${k} → ${peer} (site ${siteOrNone(peer)}): ${layers.join(', ')}`)
  })
  for (const e of plan.edges) {
    const codec = e.codec === 'topk-fp16' ? `top-k + fp16, keep ${(e.keepRatio * 100).toFixed(1)} %` : e.codec
    lines.push(
      `  ${e.crossesFence ? 'fence' : 'edge '} ${e.from}→${e.to} (${name(stages[e.from].peer)}→${name(stages[e.to].peer)}): ` +
        `${bytesText(e.bytes)} a micro-batch over ${rateText(e.bandwidthBps)}, ${codec}`,
    )
  }
  const p = plan.predicted
  lines.push(
    `predicted step ${p.stepSeconds.toFixed(3)} s (${plan.microBatches} micro-batches; slot set by ${p.bottleneck})`,
    '',
  )
  return lines
}

function siteOrNone(peer: string): string {
  try {
    return siteOf(peer).name
  } catch {
    return '?'
  }
}

/** One step: loss, time against the plan, tokens/s, bytes across the sites, each stage's busy share. */
function stepLine(event: StepEvent, steps: number, name: (id: string) => string): string {
  const r = event.result
  const between = r.links
    .filter((l) => siteOrNone(name(l.from)) !== siteOrNone(name(l.to)))
    .reduce((a, l) => a + l.bytes, 0)
  const busy = r.stages.map((s) => Math.round((100 * s.busySeconds) / r.seconds)).join('/')
  return (
    `step ${String(r.step + 1).padStart(String(steps).length)}/${steps}  loss ${r.loss.toFixed(3)}  ` +
    `${r.seconds.toFixed(2)} s (plan ${event.predictedSeconds.toFixed(2)})  ` +
    `${Math.round(event.tokens / r.seconds)} tok/s  ${bytesText(between)} between sites  busy ${busy} %`
  )
}
