/** Small graph constructors for the ops and reference tests. */
import assert from 'node:assert/strict'
import type { Attribute, Dim, Graph, Node } from '../src/graph/types.ts'
import { inferShapes } from '../src/ops/index.ts'
import { type ReferenceOptions, runReference } from '../src/reference/index.ts'
import { type DType, type Tensor, tensor } from '../src/tensor.ts'

export interface GraphSpec {
  inputs?: Record<string, [DType, Dim[] | undefined]>
  initializers?: Record<string, Tensor>
  parameters?: string[]
  nodes: Node[]
  outputs: string[]
  opset?: number
}

/** A graph from a compact spec; output types are left to inference. */
export function graphOf(spec: GraphSpec): Graph {
  return {
    name: 'test',
    nodes: spec.nodes,
    inputs: Object.entries(spec.inputs ?? {}).map(([name, [dtype, shape]]) => ({ name, dtype, shape })),
    outputs: spec.outputs.map((name) => ({ name, dtype: 'float32' })),
    initializers: new Map(Object.entries(spec.initializers ?? {})),
    parameters: new Set(spec.parameters ?? []),
    valueInfo: new Map(),
    opset: spec.opset ?? 18,
  }
}

let counter = 0

/** A node; its name is the op type and a counter unless given. */
export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attributes: Record<string, Attribute> = {},
  name = `${opType}_${counter++}`,
): Node {
  return { name, opType, inputs, outputs, attributes, scope: '' }
}

/**
 * Runs `graph` with the reference interpreter, fetching every node output, and checks that shape
 * inference (with the feeds' sizes bound) predicted each value's dtype and shape exactly.
 */
export function runChecked(
  graph: Graph,
  feeds: Record<string, Tensor>,
  options: ReferenceOptions = {},
): Record<string, Tensor> {
  const bindings: Record<string, number> = {}
  for (const v of graph.inputs) {
    v.shape?.forEach((d, i) => {
      if (typeof d === 'string') bindings[d] = feeds[v.name].shape[i]
    })
  }
  const types = inferShapes(graph, bindings)
  const fetch = graph.nodes.flatMap((n) => n.outputs.filter((o) => o !== ''))
  const out = runReference(graph, feeds, { ...options, fetch })
  for (const name of fetch) {
    const t = types.get(name)
    assert.deepEqual(
      { name, dtype: t?.dtype, shape: t?.shape },
      { name, dtype: out[name].dtype, shape: [...out[name].shape] },
    )
  }
  return out
}

/** Elements as plain numbers (bigints converted), for deepEqual / closeTo. */
export const values = (t: Tensor): number[] => Array.from(t.data as ArrayLike<number | bigint>, Number)

/** Asserts |a - b| <= tol · max(1, |b|) elementwise. */
export function assertClose(actual: Tensor | number[], expected: number[], tol = 1e-6): void {
  const a = Array.isArray(actual) ? actual : values(actual)
  assert.equal(a.length, expected.length, `length ${a.length} vs ${expected.length}`)
  a.forEach((x, i) => {
    const e = expected[i]
    const ok =
      (Number.isNaN(e) && Number.isNaN(x)) || x === e || Math.abs(x - e) <= tol * Math.max(1, Math.abs(e))
    assert.ok(
      ok,
      `element ${i}: ${x} vs expected ${e} (tol ${tol})\nactual:   [${a}]\nexpected: [${expected}]`,
    )
  })
}

export const f64 = (shape: number[], v: number[]) => tensor('float64', shape, Float64Array.from(v))
export const bool = (shape: number[], v: number[]) => tensor('bool', shape, Uint8Array.from(v))

/** Runs a single node (checked against shape inference) and returns its outputs. */
export function runOp(
  op: string,
  inputs: Record<string, Tensor | undefined>,
  attributes = {},
  opset = 18,
  outputs = ['y'],
): Tensor[] {
  const names = Object.keys(inputs)
  // integer inputs (axes, shapes, indices) and scalars become initializers, as exporters write them
  const isConst = (n: string) => inputs[n]?.dtype === 'int64' || inputs[n]?.shape.length === 0
  const given = names.filter((n) => inputs[n] !== undefined && !isConst(n))
  const g = graphOf({
    opset,
    initializers: Object.fromEntries(names.filter(isConst).map((n) => [n, inputs[n] as Tensor])),
    inputs: Object.fromEntries(
      given.map((n) => [n, [inputs[n]?.dtype ?? 'float32', [...(inputs[n]?.shape ?? [])]]]),
    ),
    nodes: [
      node(
        op,
        names.map((n) => (inputs[n] ? n : '')),
        outputs,
        attributes,
      ),
    ],
    outputs: outputs.filter((o) => o !== ''),
  })
  const out = runChecked(g, Object.fromEntries(given.map((n) => [n, inputs[n] as Tensor])))
  return outputs.map((o) => out[o])
}

/** Runs a single node and returns its first output. */
export const run1 = (
  op: string,
  inputs: Record<string, Tensor | undefined>,
  attributes = {},
  opset = 18,
): Tensor => runOp(op, inputs, attributes, opset)[0]
