/**
 * Decomposition of composite ops into primitives before differentiation: recurrent ops, whose
 * gradient is that of their unrolled primitives, and ops a backend does not compute as the ONNX
 * spec says. onnxruntime's CPU BatchNormalization with training_mode=1 does not normalise with the
 * batch statistics the spec (and PyTorch) use, so a training graph that should run on onnxruntime
 * rewrites it into ReduceSum/Sub/Mul/Sqrt nodes that keep the node's scope. Running statistics
 * follow PyTorch, which trains the models Atoll imports: r·momentum + batch·(1 − momentum) (ONNX's
 * momentum weighs the old value: PyTorch's 0.1 is 0.9 here), with the unbiased batch variance
 * n/(n − 1)·σ² for the running variance, where the ONNX spec and the reference kernel use the
 * biased σ² that normalises the batch. SoftmaxCrossEntropyLoss is written as primitives that
 * onnxruntime's WebGPU provider has kernels for (see decompose-loss.ts), on every backend: one
 * training graph for all of them.
 */
import type { Graph, Node } from '../graph/types.ts'
import { readAttrs } from '../ops/attrs.ts'
import { inferTypes } from '../ops/infer.ts'
import { float32, type Tensor, tensor } from '../tensor.ts'
import { MIN_AUTODIFF_OPSET } from './backward.ts'
import { staticShape } from './context.ts'
import { softmaxCrossEntropyPrimitives } from './decompose-loss.ts'
import { GradEmitter } from './emitter.ts'
import { isTrainingBatchNorm } from './state.ts'
import { unrollRecurrentOps } from './unroll-recurrent.ts'

/**
 * `source` prepared for differentiation (a new graph): every LSTM, GRU and RNN unrolled over its
 * sequence (they have no gradient rule: see unroll-recurrent.ts), every training-mode
 * BatchNormalization and SoftmaxCrossEntropyLoss written as primitive ops, and every Dropout given
 * a mask output — its gradient must reuse the mask the forward drew (in inference mode the mask is
 * all ones and costs one bool tensor).
 *
 * `loss: false` keeps SoftmaxCrossEntropyLoss whole, for cutting a graph into stages: a loss is
 * one unit of work, and its dozen cheap primitives invited planners to cut between them (the whole
 * model on one site, the loss's tail as stages on the other). Each stage writes it out when it
 * builds its own training graph.
 */
export function decomposeTrainingOps(
  source: Graph,
  bindings?: Readonly<Record<string, number>>,
  options: { loss?: boolean } = {},
): Graph {
  const graph = unrollRecurrentOps(source, bindings).graph
  const rewrites = (n: Node) =>
    (n.opType === 'BatchNormalization' && isTrainingBatchNorm(n, graph.opset)) ||
    (n.opType === 'Dropout' && !n.outputs[1]) ||
    (n.opType === 'SoftmaxCrossEntropyLoss' && graph.opset >= MIN_AUTODIFF_OPSET && options.loss !== false)
  if (!graph.nodes.some(rewrites)) return graph
  const { types } = inferTypes(graph, { bindings })
  const taken = new Set<string>([...types.keys(), ...graph.nodes.map((n) => n.name)])
  const emit = new GradEmitter(taken)
  const nodes: Node[] = []
  for (const node of graph.nodes) {
    if (!rewrites(node)) nodes.push(node)
    else if (node.opType === 'Dropout') {
      emit.hint = node.name
      nodes.push({ ...node, outputs: [node.outputs[0], emit.fresh('mask')] })
    } else {
      const start = emit.nodes.length
      emit.scope = node.scope
      emit.hint = node.name
      const dtype = types.get(node.inputs[0])?.dtype ?? 'float32'
      if (node.opType === 'SoftmaxCrossEntropyLoss') {
        const labels = types.get(node.inputs[1])?.dtype ?? 'int64'
        const shape = types.get(node.inputs[0])?.shape ?? []
        softmaxCrossEntropyPrimitives(emit, node, { dtype, shape, labels, opset: graph.opset })
      } else batchNormPrimitives(emit, node, staticShape(types, node.inputs[0]), dtype)
      nodes.push(...emit.nodes.slice(start))
    }
  }
  const initializers = new Map<string, Tensor>([...graph.initializers, ...emit.initializers])
  return { ...graph, nodes, initializers }
}

function batchNormPrimitives(e: GradEmitter, node: Node, shape: number[], dtype: Tensor['dtype']): void {
  const a = readAttrs(node)
  const [x, scale, bias, runMean, runVar] = node.inputs
  const [y, outMean, outVar] = node.outputs
  const perChannel = [shape[1], ...shape.slice(2).map(() => 1)]
  const axes = [0, ...shape.slice(2).map((_, i) => i + 2)]
  const count = axes.reduce((n, ax) => n * shape[ax], 1)
  const scalar = (v: number) =>
    dtype === 'float64' ? e.constant(tensor('float64', [], Float64Array.of(v))) : e.constant(float32([], [v]))
  const mean = e.op('Mul', [e.reduceSum(x, axes, true), scalar(1 / count)])
  const centred = e.op('Sub', [x, mean])
  const variance = e.op('Mul', [e.reduceSum(e.op('Mul', [centred, centred]), axes, true), scalar(1 / count)])
  const invStd = e.op('Reciprocal', [e.op('Sqrt', [e.op('Add', [variance, scalar(a.float('epsilon'))])])])
  const scaled = e.op('Mul', [e.op('Mul', [centred, invStd]), e.reshape(scale, perChannel)])
  e.op('Add', [scaled, e.reshape(bias, perChannel)], {}, y)
  const momentum = a.float('momentum')
  const running = (old: string, batch: string, out: string) => {
    const kept = e.op('Mul', [old, scalar(momentum)])
    e.op('Add', [kept, e.op('Mul', [e.reshape(batch, [shape[1]]), scalar(1 - momentum)])], {}, out)
  }
  if (outMean) running(runMean, mean, outMean)
  if (outVar) running(runVar, e.op('Mul', [variance, scalar(count / Math.max(count - 1, 1))]), outVar)
}
