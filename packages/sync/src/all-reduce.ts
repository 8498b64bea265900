/**
 * One all-reduce on this member, once the group has planned it and opened its slot: the run is made,
 * what the plan's algorithm waits for is declared (taking what came early), then it runs under its
 * deadline.
 */
import { CollectiveRun, type RunInit } from './collective.ts'
import { declareFlat, runFlat } from './flat.ts'
import { declareHierarchical, runHierarchical } from './hierarchical.ts'
import type { CollectivePlan } from './plan.ts'
import type { CollectiveSlot } from './slot.ts'

/** What every collective of a group shares. */
export type GroupContext = Pick<
  RunInit,
  'group' | 'members' | 'self' | 'pieceElements' | 'feedback' | 'send' | 'sendsInFlight' | 'reject'
>

export async function runAllReduce(
  context: GroupContext,
  collective: { round: number; name: string; plan: CollectivePlan; slot: CollectiveSlot },
  data: Float32Array,
  running: Set<CollectiveRun>,
): Promise<Float32Array> {
  const { round, name, plan, slot } = collective
  const run = new CollectiveRun({
    ...context,
    round,
    name,
    slot,
    fingerprint: plan.fingerprint,
    compression: plan.compression,
    deadlineSeconds: plan.deadlineSeconds,
    noticeSeconds: plan.noticeSeconds,
  })
  running.add(run)
  try {
    const output = new Float32Array(data.length)
    const work = declare(run, plan, data, output)
    return await run.execute(async () => {
      await work()
      return output
    })
  } finally {
    running.delete(run)
  }
}

/** Declares what the plan's algorithm waits for; returns the work that runs it. */
function declare(run: CollectiveRun, plan: CollectivePlan, data: Float32Array, output: Float32Array) {
  if (plan.layout.algorithm === 'flat') {
    const phases = { reduce: 'rs', gather: 'ag', depth: 0 } as const
    const waits = declareFlat(run, plan.layout.clusters[0], data.length, phases)
    return () => runFlat(run, waits, data, output)
  }
  const waits = declareHierarchical(run, plan.layout, data.length)
  return () => runHierarchical(run, waits, data, output)
}
