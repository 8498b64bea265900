/**
 * A joiner's state from a live replica, without a checkpoint: every parameter (`param/<name>`), every
 * optimizer buffer (`optim/<param>.<buffer>`, the runtime's exportState names) and the
 * synchronizer's own tensors (`sync/<name>`), one tensor message each, and a manifest (the step the
 * joiner starts at, the round, the optimizer's step count). The joiner checks every tensor against
 * its own replica — the same model and optimizer, so the same names and sizes — and loads nothing
 * until all of it has come from one sender.
 */
import { parseWith, tensor } from '@atoll/core'
import type { Optimizer } from '@atoll/runtime'
import * as z from 'zod/mini'
import { DEFAULT_SENDS_IN_FLIGHT } from '../constants.ts'
import { ReplicaStateError } from './errors.ts'
import { MANIFEST, type ReplicaChannel } from './replica-channel.ts'
import type { TrainingReplica } from './synchronizer.ts'

export interface StateCounts {
  tensors: number
  bytes: number
}

/** The replica's tensors under their state names (views, not copies). */
function stateEntries(
  replica: TrainingReplica,
  own: ReadonlyMap<string, Float32Array>,
): [string, Float32Array][] {
  const entries: [string, Float32Array][] = replica.params.map((p) => [`param/${p.name}`, p.value])
  for (const [name, t] of replica.optimizer.exportState().tensors) {
    if (t.dtype !== 'float32')
      throw new ReplicaStateError(`optimizer tensor '${name}' is ${t.dtype}, not float32`)
    entries.push([`optim/${name}`, t.data as Float32Array])
  }
  for (const [name, values] of own) entries.push([`sync/${name}`, values])
  return entries
}

/** Sends `peer` the replica's state for `round`; resolves once every message was received. */
export async function sendReplicaState(
  channel: ReplicaChannel,
  peer: string,
  state: TrainingReplica & { nextStep: number; round: number; tensors: ReadonlyMap<string, Float32Array> },
): Promise<StateCounts> {
  const entries = stateEntries(state, state.tensors)
  const manifest = Float64Array.of(state.nextStep, state.round, state.optimizer.steps)
  // a few messages at a time: a model's hundreds of tensors at once would pass the receiver's limit
  // on streams (measured: a GPT's state, all at once, had its streams reset)
  const queue: [string, Float32Array | Float64Array][] = [...entries, [MANIFEST, manifest]]
  const sender = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift())
      await channel.send(peer, 'state', state.round, next[0], next[1])
  }
  await Promise.all(Array.from({ length: DEFAULT_SENDS_IN_FLIGHT }, sender))
  return { tensors: entries.length, bytes: entries.reduce((sum, [, v]) => sum + v.byteLength, 0) }
}

const count = z.int().check(z.gte(0), z.lte(Number.MAX_SAFE_INTEGER))
const manifestSchema = z.tuple([count, count, count])

export interface ReceivedState {
  from: string
  nextStep: number
  /** the synchronizer's own tensors, `sync/` taken off their names */
  tensors: Map<string, Float32Array>
  counts: StateCounts
}

/**
 * Waits for a state that fits `replica` and the synchronizer's `template` (its tensors' names and
 * lengths), checks the manifest's round against this replica's, and loads the parameters and the
 * optimizer state; the synchronizer loads its own tensors from the result.
 */
export async function receiveReplicaState(
  channel: ReplicaChannel,
  replica: TrainingReplica,
  expect: { round: number; template: ReadonlyMap<string, number>; seconds: (bytes: number) => number },
): Promise<ReceivedState> {
  const own = replica.optimizer.exportState()
  const expected = new Map<string, number>(replica.params.map((p) => [`param/${p.name}`, p.value.length]))
  for (const [name, t] of own.tensors) expected.set(`optim/${name}`, t.data.length)
  for (const [name, length] of expect.template) expected.set(`sync/${name}`, length)
  const bytes = 4 * [...expected.values()].reduce((a, b) => a + b, 0)
  expected.set(MANIFEST, 3)
  const { from, values } = await channel.takeState(expected, expect.seconds(bytes))
  const [nextStep, round, steps] = parseWith(
    manifestSchema,
    Array.from(values.get(MANIFEST) ?? []),
    ReplicaStateError,
    {
      root: 'state.manifest',
    },
  )
  if (round !== expect.round)
    throw new ReplicaStateError(
      `state.manifest[1]: expected round ${expect.round} (this group's), found ${round}`,
    )
  for (const p of replica.params) p.value.set(values.get(`param/${p.name}`) as Float32Array)
  loadOptimizer(replica.optimizer, own, values, steps)
  const tensors = new Map<string, Float32Array>()
  for (const name of expect.template.keys()) tensors.set(name, values.get(`sync/${name}`) as Float32Array)
  return { from, nextStep, tensors, counts: { tensors: values.size - 1, bytes } }
}

function loadOptimizer(
  optimizer: Optimizer,
  own: ReturnType<Optimizer['exportState']>,
  values: ReadonlyMap<string, Float32Array | Float64Array>,
  steps: number,
): void {
  const tensors = new Map(
    [...own.tensors].map(([name, t]) => [
      name,
      tensor('float32', t.shape, values.get(`optim/${name}`) as Float32Array),
    ]),
  )
  optimizer.importState({ ...own, steps, tensors })
}
