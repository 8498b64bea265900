/**
 * Mixed precision: a graph whose matrix products (MatMul, Gemm, Conv, ConvTranspose) compute in
 * float16 and everything else in float32, as PyTorch's autocast does. Each float32 input of such a
 * node is cast down (once per value, however many products read it) and its output cast back up,
 * so the parameters stay float32 (the master weights), reductions, normalisations, softmax and the
 * loss stay float32, and autodiff differentiates through the Casts: gradients arrive in float32.
 * Backward's products follow the forward's in float16, which is why a float16 run scales its loss
 * (runtime's DynamicLossScale): small gradients would otherwise flush to zero.
 */
import { inferTypes } from '../ops/infer.ts'
import { onnxCodeOfDtype } from '../ops/onnx-dtype.ts'
import { attr, type Graph, type Node } from './types.ts'

/** The ops that compute in the lower precision: where nearly all of a model's FLOPs are. */
export const AUTOCAST_OPS: ReadonlySet<string> = new Set(['MatMul', 'Gemm', 'Conv', 'ConvTranspose'])

/** The lower-precision dtypes a graph can compute in. */
export type ComputeDtype = 'float16'

/** `graph` with its float32 matrix products computed in `dtype` (a new graph; `graph` is unchanged). */
export function autocast(graph: Graph, dtype: ComputeDtype = 'float16'): Graph {
  const { types } = inferTypes(graph)
  const taken = new Set<string>([...types.keys(), ...graph.nodes.flatMap((n) => [n.name, ...n.outputs])])
  const fresh = (base: string) => {
    let name = base
    for (let k = 1; taken.has(name); k++) name = `${base}_${k}`
    taken.add(name)
    return name
  }
  const cast = (input: string, output: string, to: string, scope: string): Node => ({
    name: fresh(`${output}/Cast`),
    opType: 'Cast',
    inputs: [input],
    outputs: [output],
    attributes: { to: attr.int(onnxCodeOfDtype(to === 'float32' ? 'float32' : dtype)) },
    scope,
  })
  const lowered = new Map<string, string>()
  const nodes: Node[] = []
  for (const node of graph.nodes) {
    const float = (name: string) => name !== '' && types.get(name)?.dtype === 'float32'
    if (!AUTOCAST_OPS.has(node.opType) || node.outputs.length !== 1 || !float(node.outputs[0])) {
      nodes.push(node)
      continue
    }
    const inputs = node.inputs.map((name) => {
      if (!float(name)) return name
      let low = lowered.get(name)
      if (low === undefined) {
        low = fresh(`${name}_${dtype}`)
        lowered.set(name, low)
        nodes.push(cast(name, low, dtype, node.scope))
      }
      return low
    })
    const out = node.outputs[0]
    const low = fresh(`${out}_${dtype}`)
    nodes.push({ ...node, inputs, outputs: [low] }, cast(low, out, 'float32', node.scope))
  }
  return { ...graph, nodes, valueInfo: new Map(graph.valueInfo) }
}
