import { CyclicGraphError, UnknownReferenceError } from './errors.ts'
import { type EstimatorOptions, opWork } from './estimator.ts'
import type { OpCost } from './types.ts'

/** Ops in a topological order with prefix sums, so any contiguous segment is costed in O(1). */
export interface LinearGraph {
  ops: OpCost[]
  /** layer of each op (see layerOf) */
  layers: string[]
  /** bytes crossing a cut just before op p, p = 0…N (0 at both ends) */
  cutBytes: Float64Array
  /** prefix sums over ops: calibrated work (FLOPs/efficiency, fwd + bwd), parameter and output bytes */
  work: Float64Array
  params: Float64Array
  outputs: Float64Array
}

/**
 * The layer an op belongs to: its scope up to the first numbered component (`h.3.attn.c_attn` →
 * `h.3`), else the scope's first component (`wte`, `ln_f`); `(none)` for an op without a scope.
 * This is the unit the `even` baseline counts.
 */
export function layerOf(scope: string): string {
  if (scope === '') return '(none)'
  const parts = scope.split('.')
  const k = parts.findIndex((p) => /^\d+$/.test(p))
  return k < 0 ? parts[0] : parts.slice(0, k + 1).join('.')
}

/** Orders ops topologically (staying as close to the given order as dependencies allow) and sums them. */
export function linearize(ops: readonly OpCost[], options: EstimatorOptions = {}): LinearGraph {
  const ordered = topological(ops)
  const N = ordered.length
  const position = new Map(ordered.map((op, i) => [op.id, i]))
  const lastUse = new Int32Array(N).fill(-1)
  ordered.forEach((op, j) => {
    for (const id of op.inputs) {
      const i = position.get(id)!
      lastUse[i] = Math.max(lastUse[i], j)
    }
  })
  const diff = new Float64Array(N + 2)
  ordered.forEach((op, i) => {
    if (lastUse[i] > i) {
      diff[i + 1] += op.outputBytes
      diff[lastUse[i] + 1] -= op.outputBytes
    }
  })
  const cutBytes = new Float64Array(N + 1)
  const work = new Float64Array(N + 1)
  const params = new Float64Array(N + 1)
  const outputs = new Float64Array(N + 1)
  let running = 0
  for (let p = 0; p < N; p++) {
    running += diff[p]
    cutBytes[p] = p === 0 ? 0 : Math.max(0, running)
    work[p + 1] = work[p] + opWork(ordered[p], options)
    params[p + 1] = params[p] + ordered[p].paramBytes
    outputs[p + 1] = outputs[p] + ordered[p].outputBytes
  }
  return { ops: ordered, layers: ordered.map((op) => layerOf(op.scope)), cutBytes, work, params, outputs }
}

/** Depth-first: each op is emitted after its inputs, ops otherwise in their given order. */
function topological(ops: readonly OpCost[]): OpCost[] {
  const byId = new Map<string, number>()
  ops.forEach((op, i) => {
    if (byId.has(op.id)) throw new UnknownReferenceError(`op id '${op.id}' appears twice`)
    byId.set(op.id, i)
  })
  const state = new Uint8Array(ops.length) // 0 new, 1 on the stack, 2 emitted
  const out: OpCost[] = []
  for (let root = 0; root < ops.length; root++) {
    if (state[root] !== 0) continue
    const stack: [number, number][] = [[root, 0]]
    state[root] = 1
    while (stack.length > 0) {
      const top = stack[stack.length - 1]
      const op = ops[top[0]]
      if (top[1] < op.inputs.length) {
        const id = op.inputs[top[1]++]
        const dep = byId.get(id)
        if (dep === undefined) throw new UnknownReferenceError(`op '${op.id}' reads '${id}', which is no op`)
        if (state[dep] === 1) throw new CyclicGraphError(`ops '${id}' and '${op.id}' are on a cycle`)
        if (state[dep] === 0) {
          state[dep] = 1
          stack.push([dep, 0])
        }
      } else {
        state[top[0]] = 2
        out.push(op)
        stack.pop()
      }
    }
  }
  return out
}
