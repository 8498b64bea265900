/**
 * checkGradient: the gradients buildBackward emits, run with the reference interpreter, against
 * central finite differences of the forward graph's loss. The analytic side goes the way a pipeline
 * stage goes: run the forward, fetch exactly the values the backward says it saves, run the
 * backward graph on them with the seed 1 — so a rule that forgets to declare what it reads fails.
 */
import type { Graph, Node } from '../src/graph/types.ts'
import { buildBackward } from '../src/autodiff/backward.ts'
import { unrollRecurrentOps } from '../src/autodiff/unroll-recurrent.ts'
import { seededRandom } from '../src/builder/init.ts'
import { inferShapes } from '../src/ops/index.ts'
import { runReference } from '../src/reference/index.ts'
import { type DType, isFloat, numel, type Tensor, tensor } from '../src/tensor.ts'
import { node } from './ops-helpers.ts'

/** A deterministic PRNG (the builder's mulberry32) so failures reproduce. */
export const rng = seededRandom

/** Uniform values in ±[lo, hi] with random sign: |v| ≥ lo keeps inputs away from kinks (Relu at 0). */
export function randomTensor(dtype: DType, shape: number[], next: () => number, lo = 0.1, hi = 1): Tensor {
  const values = Array.from(
    { length: numel(shape) },
    () => (next() < 0.5 ? -1 : 1) * (lo + (hi - lo) * next()),
  )
  return floatTensor(dtype, shape, values)
}

export function floatTensor(dtype: DType, shape: number[], values: ArrayLike<number>): Tensor {
  if (dtype === 'float64') return tensor('float64', shape, Float64Array.from(values))
  if (dtype === 'float32') return tensor('float32', shape, Float32Array.from(values))
  throw new Error(`floatTensor: ${dtype} is not float32/float64`)
}

export interface OpGraphSpec {
  /** differentiated tensors (trainable initializers) */
  params?: Record<string, Tensor>
  /** non-trainable initializers (axes, shapes, indices, running statistics) */
  constants?: Record<string, Tensor>
  /** graph inputs, fed at run time */
  inputs?: Record<string, Tensor>
  nodes: Node[]
  /** the value the random projection loss reads */
  output: string
  opset?: number
}

/**
 * A graph computing loss = Σ output ⊙ R for a fixed random R, so that every element of the
 * output gradient differs (a plain sum would hide transposition bugs).
 */
export function lossGraph(spec: OpGraphSpec, seed = 1): Graph {
  const graph: Graph = {
    name: 'gradcheck',
    nodes: [...spec.nodes],
    inputs: Object.entries(spec.inputs ?? {}).map(([name, t]) => ({
      name,
      dtype: t.dtype,
      shape: [...t.shape],
    })),
    outputs: [],
    initializers: new Map(Object.entries({ ...spec.constants, ...spec.params })),
    parameters: new Set(Object.keys(spec.params ?? {})),
    valueInfo: new Map(),
    opset: spec.opset ?? 18,
  }
  const out = inferShapes(graph).get(spec.output)
  if (!out?.shape) throw new Error(`no shape for ${spec.output}`)
  const shape = out.shape as number[]
  graph.initializers.set('projection', randomTensor(out.dtype, shape, rng(seed), 0.5, 1.5))
  graph.nodes.push(node('Mul', [spec.output, 'projection'], ['projected']))
  graph.nodes.push(node('ReduceSum', ['projected'], ['loss'], { keepdims: { kind: 'int', value: 0 } }))
  graph.outputs = [{ name: 'loss', dtype: out.dtype, shape: [] }]
  return graph
}

export interface GradCheckOptions {
  feeds?: Record<string, Tensor>
  loss?: string
  /** graph inputs to differentiate besides the parameters */
  inputs?: string[]
  /** finite-difference step; default 1e-5 (float64) or 1e-2 (float32) */
  eps?: number
  /** at most this many coordinates per tensor are perturbed (evenly spread); default 12 */
  samples?: number
}

export interface GradCheck {
  /** relative error ‖analytic − numeric‖ / max(‖analytic‖, ‖numeric‖) per differentiated tensor */
  errors: Record<string, number>
  /** names of the nodes whose gradient rules produced the analytic side */
  nodes: ReadonlySet<string>
}

/**
 * The analytic gradient of every differentiated tensor against central finite differences. LSTM,
 * GRU and RNN have no rule: the analytic side differentiates them unrolled (as training does), the
 * numeric side runs their kernels, and each counts as covered when a rule of its unrolling ran.
 */
export function checkGradient(graph: Graph, options: GradCheckOptions = {}): GradCheck {
  const feeds = options.feeds ?? {}
  const loss = options.loss ?? 'loss'
  const unrolled = unrollRecurrentOps(graph)
  const backward = buildBackward(unrolled.graph, loss, { inputs: options.inputs })
  const forward = runReference(unrolled.graph, feeds, { fetch: [loss, ...backward.saved] })
  const lossValue = forward[loss]
  const bfeeds: Record<string, Tensor> = {}
  for (const name of backward.saved) bfeeds[name] = forward[name]
  const seed = backward.seeds.get(loss) as string
  bfeeds[seed] = floatTensor(lossValue.dtype, [...lossValue.shape], new Array(numel(lossValue.shape)).fill(1))
  const analytic = runReference(backward.graph, bfeeds)
  const errors: Record<string, number> = {}
  for (const [name, gradOut] of backward.gradients) {
    const base = feeds[name] ?? graph.initializers.get(name)
    if (!base || !isFloat(base.dtype)) throw new Error(`cannot perturb ${name}`)
    const eps = options.eps ?? (base.dtype === 'float64' ? 1e-5 : 1e-2)
    const g = analytic[gradOut].data as Float32Array | Float64Array
    const n = base.data.length
    const count = Math.min(n, options.samples ?? 12)
    let diff = 0
    let normA = 0
    let normN = 0
    for (let s = 0; s < count; s++) {
      const j = Math.floor((s * n) / count)
      const at = (delta: number) => {
        const data = (base.data as Float64Array).slice()
        data[j] += delta
        const out = runReference(graph, { ...feeds, [name]: { ...base, data } }, { fetch: [loss] })
        return Number(out[loss].data[0])
      }
      const numeric = (at(eps) - at(-eps)) / (2 * eps)
      diff += (g[j] - numeric) ** 2
      normA += g[j] ** 2
      normN += numeric ** 2
    }
    const scale = Math.max(Math.sqrt(normA), Math.sqrt(normN))
    errors[name] = scale === 0 ? 0 : Math.sqrt(diff) / scale
  }
  const nodes = new Set(backward.differentiatedNodes)
  for (const [part, whole] of unrolled.origin) if (nodes.has(part)) nodes.add(whole)
  return { errors, nodes }
}

/**
 * Throws with every tensor's error when one exceeds `tolerance`; returns the names of the nodes
 * whose rules the check covered.
 */
export function assertGradient(
  graph: Graph,
  tolerance: number,
  options: GradCheckOptions = {},
): ReadonlySet<string> {
  const { errors, nodes } = checkGradient(graph, options)
  const bad = Object.entries(errors).filter(([, e]) => !(e < tolerance))
  if (bad.length > 0) {
    throw new Error(`gradient check failed (tolerance ${tolerance}): ${JSON.stringify(errors)}`)
  }
  if (Object.keys(errors).length === 0) throw new Error('gradient check differentiated nothing')
  return nodes
}

/**
 * The same graph in float64: float32 initializers, inputs, outputs, Casts to float and float
 * constants are widened, so that finite differences of a whole model reach 1e-6 relative.
 */
export function toFloat64(graph: Graph): Graph {
  const widen = (t: Tensor): Tensor =>
    t.dtype === 'float32' ? tensor('float64', t.shape, Float64Array.from(t.data as Float32Array)) : t
  const info = <T extends { dtype: DType }>(v: T): T =>
    v.dtype === 'float32' ? { ...v, dtype: 'float64' } : v
  const FLOAT = 1
  const DOUBLE = 11
  const nodes = graph.nodes.map((n) => {
    const attributes = { ...n.attributes }
    for (const [k, a] of Object.entries(attributes)) {
      if (a.kind === 'tensor') attributes[k] = { kind: 'tensor', value: widen(a.value) }
      if (n.opType === 'Cast' && k === 'to' && a.kind === 'int' && a.value === FLOAT)
        attributes[k] = { kind: 'int', value: DOUBLE }
    }
    return { ...n, attributes }
  })
  return {
    ...graph,
    nodes,
    inputs: graph.inputs.map(info),
    outputs: graph.outputs.map(info),
    initializers: new Map([...graph.initializers].map(([k, t]) => [k, widen(t)])),
    valueInfo: new Map([...graph.valueInfo].map(([k, v]) => [k, info(v)])),
  }
}
