/**
 * planStash: what a stage keeps for backward. Small cases check the choices by name; random DAGs
 * check that the plan always rebuilds what backward needs and keeps no more bytes than the best
 * subset found by exhaustive search.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { planStash } from '../src/autodiff/remat.ts'
import type { Graph, Node, ValueInfo } from '../src/graph/types.ts'
import { rng } from './gradcheck.ts'
import { node } from './ops-helpers.ts'

function graphOf(nodes: Node[]): Graph {
  return {
    name: 'g',
    opset: 18,
    nodes,
    inputs: [],
    outputs: [],
    initializers: new Map(),
    parameters: new Set(),
    valueInfo: new Map(),
  } as unknown as Graph
}

const sized = (sizes: Record<string, number>) =>
  new Map<string, ValueInfo>(
    Object.entries(sizes).map(([name, n]) => [name, { name, dtype: 'float32', shape: [n] }]),
  )

test('a GELU-like chain after a MatMul keeps only the MatMul output', () => {
  const g = graphOf([
    node('MatMul', ['x', 'w'], ['m']),
    node('Tanh', ['m'], ['t']),
    node('Mul', ['t', 't'], ['u']),
    node('Add', ['u', 'm'], ['y']),
  ])
  const plan = planStash(g, ['m', 't', 'u'], {
    free: new Set(['x', 'w', 'y']),
    types: sized({ m: 100, t: 100, u: 100, y: 100 }),
  })
  assert.deepEqual(plan.stash, ['m'])
  assert.deepEqual(
    plan.recompute.map((n) => n.opType),
    ['Tanh', 'Mul'],
  )
})

test("a parameter's transpose is recomputed, never kept", () => {
  const g = graphOf([node('Transpose', ['w'], ['wT']), node('MatMul', ['x', 'wT'], ['y'])])
  const plan = planStash(g, ['wT', 'x'], { free: new Set(['x', 'w', 'y']), types: sized({ wT: 50, y: 10 }) })
  assert.deepEqual(plan.stash, [])
  assert.deepEqual(
    plan.recompute.map((n) => n.opType),
    ['Transpose'],
  )
})

test('a sum of two kept values is kept itself when it is smaller than both', () => {
  const g = graphOf([
    node('MatMul', ['x', 'w'], ['a']),
    node('MatMul', ['x', 'v'], ['b']),
    node('Add', ['a', 'b'], ['s']),
    node('Relu', ['s'], ['r']),
  ])
  const plan = planStash(g, ['s'], {
    free: new Set(['x', 'w', 'v', 'r']),
    types: sized({ a: 8, b: 8, s: 8, r: 8 }),
  })
  assert.deepEqual(plan.stash, ['s'])
  assert.deepEqual(plan.recompute, [])
})

test('Dropout is kept: a rerun would draw another mask', () => {
  const g = graphOf([node('Dropout', ['x'], ['d', 'mask']), node('Mul', ['d', 'd'], ['y'])])
  const plan = planStash(g, ['mask', 'd'], {
    free: new Set(['x', 'y']),
    types: sized({ d: 4, mask: 4, y: 4 }),
  })
  assert.deepEqual(plan.stash.sort(), ['d', 'mask'])
})

const OPS = ['MatMul', 'Add', 'Mul', 'Tanh', 'Transpose', 'Softmax']

/** Can backward rebuild every needed value from `kept` and the free values with recomputable ops? */
function feasible(g: Graph, needed: string[], kept: Set<string>, free: Set<string>): boolean {
  const made = new Map(g.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)))
  const ok = (v: string): boolean => {
    if (kept.has(v) || free.has(v) || !made.has(v)) return true
    const n = made.get(v)!
    return ['Add', 'Mul', 'Tanh', 'Transpose'].includes(n.opType) && n.inputs.every(ok)
  }
  return needed.every(ok)
}

test('on 200 random DAGs the plan is feasible and as small as the best subset', () => {
  const next = rng(7)
  const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)]
  for (let trial = 0; trial < 200; trial++) {
    const values = ['in0', 'in1']
    const nodes: Node[] = []
    const sizes: Record<string, number> = {}
    const count = 3 + Math.floor(next() * 7)
    for (let k = 0; k < count; k++) {
      const op = pick(OPS)
      const arity = ['Tanh', 'Transpose', 'Softmax'].includes(op) ? 1 : 2
      const out = `v${k}`
      nodes.push(
        node(
          op,
          Array.from({ length: arity }, () => pick(values)),
          [out],
        ),
      )
      sizes[out] = 1 + Math.floor(next() * 9)
      values.push(out)
    }
    const produced = Object.keys(sizes)
    const last = produced[produced.length - 1]
    const needed = produced.filter(() => next() < 0.5)
    const free = new Set(['in0', 'in1', last])
    const g = graphOf(nodes)
    const plan = planStash(g, [...needed, 'in0'], { free, types: sized(sizes) })
    const kept = new Set(plan.stash)
    assert.ok(feasible(g, needed, kept, free), `trial ${trial}: infeasible plan ${plan.stash}`)
    const bytes = (s: Iterable<string>) => [...s].reduce((a, v) => a + sizes[v] * 4, 0)
    let best = Infinity
    const candidates = produced.filter((v) => !free.has(v))
    for (let mask = 0; mask < 1 << candidates.length; mask++) {
      const subset = new Set(candidates.filter((_, i) => mask & (1 << i)))
      if (feasible(g, needed, subset, free)) best = Math.min(best, bytes(subset))
    }
    assert.equal(bytes(kept), best, `trial ${trial}: kept ${plan.stash} (${bytes(kept)} B), best ${best} B`)
    // recomputed nodes rebuild exactly the needed values that were not kept, from kept and free values
    const available = new Set([...kept, ...free])
    for (const n of plan.recompute) {
      assert.ok(
        n.inputs.every((i) => available.has(i) || !sizes[i]),
        `trial ${trial}: ${n.name} reads a lost value`,
      )
      for (const o of n.outputs) available.add(o)
    }
    for (const v of needed) assert.ok(available.has(v), `trial ${trial}: '${v}' is not rebuilt`)
  }
})
