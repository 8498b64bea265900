/**
 * A job's events as JSON lines (OUT/log.jsonl): one line per event with its time, so that a run can
 * be followed by tools as it goes. The plan is logged as its text and its boundaries, not the node
 * lists of its stages, which can be large.
 */
import type { TrainEvent } from './train.ts'

/** One line of the log for `event` (with its newline). */
export function trainEventLine(event: TrainEvent, at: Date = new Date()): string {
  return `${JSON.stringify({ time: at.toISOString(), ...eventRecord(event) })}\n`
}

function eventRecord(event: TrainEvent): Record<string, unknown> {
  if (event.kind !== 'plan' && event.kind !== 'step') return event
  if (event.kind === 'step') {
    const { result, predictedSeconds, tokens } = event
    return { kind: 'step', ...result, predictedSeconds, tokens }
  }
  const { profile, placement } = event
  return {
    kind: 'plan',
    text: event.text,
    peers: profile.peers.map((p) => ({ id: p.id, name: p.name, device: p.device, flops: p.flops })),
    links: profile.links,
    stages: placement.stages.map((s, k) => ({
      peer: s.peer,
      layers: placement.plan.stages[k]?.layers ?? [],
    })),
    boundaries: placement.boundaries,
    predictedSeconds: placement.plan.predicted.stepSeconds,
  }
}
