/** The one door to the training algorithms: a parsed spec and a group give a Synchronizer. */
import type { SyncGroup } from '../group.ts'
import { DilocoSynchronizer } from './diloco.ts'
import { DreamDdpSynchronizer } from './dreamddp.ts'
import { LocalSgdSynchronizer } from './local-sgd.ts'
import { parseSynchronizerSpec, type SynchronizerSpec, type SynchronizerSpecInput } from './spec.ts'
import { SsgdSynchronizer } from './ssgd.ts'
import type { Synchronizer, SynchronizerOptions } from './synchronizer.ts'

/**
 * The synchronizer `spec` names, over `group` (whose members, in the same order on every replica,
 * are the first round's). `spec` is parsed again here, so a hand-built one gets the same checks and
 * defaults as a job file's.
 */
export function createSynchronizer(
  spec: SynchronizerSpec | SynchronizerSpecInput,
  group: SyncGroup,
  options: SynchronizerOptions,
): Synchronizer {
  const parsed = parseSynchronizerSpec(spec)
  switch (parsed.algorithm) {
    case 'ssgd':
      return new SsgdSynchronizer(parsed, group, options)
    case 'local-sgd':
      return new LocalSgdSynchronizer(parsed, group, options)
    case 'diloco':
      return new DilocoSynchronizer(parsed, group, options)
    case 'dreamddp':
      return new DreamDdpSynchronizer(parsed, group, options)
  }
}

/**
 * The first round a replica that starts at `step` runs, for the algorithms whose rounds follow from
 * the step alone (S-SGD: one a step; Local SGD and DiLoCo: one every `period` steps). DreamDDP's
 * rounds depend on its schedule: ask a live replica's `round`.
 */
export function roundAtStep(spec: SynchronizerSpec, step: number): number | undefined {
  if (spec.algorithm === 'ssgd') return step
  if (spec.algorithm === 'dreamddp') return undefined
  return Math.floor(step / spec.period)
}
