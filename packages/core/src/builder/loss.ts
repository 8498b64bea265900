/**
 * Losses, as standard ONNX ops. Cross-entropy is one SoftmaxCrossEntropyLoss node (opset ≥ 12,
 * reduction mean, optional ignore_index) over logits flattened to [positions, classes], so a
 * language model's [batch, seq, vocab] logits are averaged over every position. Training graphs
 * write that node as primitives onnxruntime's WebGPU provider has kernels for (it has no
 * SoftmaxCrossEntropyLoss): see autodiff/decompose-loss.ts.
 */
import type { Dim, Graph, ValueInfo } from '../graph/types.ts'
import { GraphBuilder } from '../graph/builder.ts'
import { InvalidGraphError } from '../graph/errors.ts'
import { inferShapes } from '../ops/infer.ts'
import { LayerShapeError } from './errors.ts'
import type { ModelBuilder, Value } from './model.ts'

/** Default names shared by the builder and the ONNX importer. */
export const LOSS_NAME = 'loss'
export const TARGETS_NAME = 'targets'

export interface CrossEntropyOptions {
  /** targets equal to this contribute nothing and are left out of the mean (PyTorch's -100) */
  ignoreIndex?: number
  /** the loss value's name; default 'loss' */
  name?: string
}

/** Mean softmax cross-entropy of `logits` (classes last) against int64 class indices `targets`. */
export function softmaxCrossEntropy(
  builder: GraphBuilder,
  logits: string,
  targets: string,
  rank: number,
  classes: number,
  options: CrossEntropyOptions = {},
): string {
  return builder.scope('loss', () => {
    const scores = rank > 2 ? builder.op('Reshape', [logits, builder.ints([-1, classes], 'shape')]) : logits
    const labels = rank > 2 ? builder.op('Reshape', [targets, builder.ints([-1], 'shape')]) : targets
    const attrs: Record<string, number | string> = { reduction: 'mean' }
    if (options.ignoreIndex !== undefined) attrs.ignore_index = options.ignoreIndex
    return builder.node('SoftmaxCrossEntropyLoss', [scores, labels], attrs, {
      outputs: [options.name ?? LOSS_NAME],
    })[0]
  })
}

/** Mean squared error over all elements. */
export function mse(builder: GraphBuilder, prediction: string, target: string, name = LOSS_NAME): string {
  return builder.scope('loss', () => {
    const diff = builder.op('Sub', [prediction, target])
    const sq = builder.op('Mul', [diff, diff])
    return builder.node('ReduceMean', [sq], { keepdims: 0 }, { outputs: [name] })[0]
  })
}

export interface AppendLossOptions extends CrossEntropyOptions {
  /** which graph output holds the logits; default the first */
  output?: string
  /** the name of the targets input to add; default 'targets' */
  targets?: string
}

/**
 * Appends a cross-entropy loss to a graph in place: a new int64 input `targets` shaped like the
 * logits without their class axis, and a new scalar output `loss`. Returns the loss value's name.
 */
export function appendCrossEntropyLoss(graph: Graph, options: AppendLossOptions = {}): string {
  const out =
    options.output === undefined ? graph.outputs[0] : graph.outputs.find((o) => o.name === options.output)
  if (out === undefined) {
    throw new InvalidGraphError(
      `graph '${graph.name}' has no output '${options.output ?? '(any)'}' to put a loss on`,
    )
  }
  const shape = outputShape(graph, out)
  const classes = shape?.[shape.length - 1]
  if (shape === undefined || shape.length < 2 || typeof classes !== 'number') {
    throw new InvalidGraphError(
      `output '${out.name}' needs a known rank ≥ 2 and a static class axis for a cross-entropy loss, got [${shape ?? '?'}]`,
    )
  }
  const b = GraphBuilder.edit(graph)
  const targets = b.input(options.targets ?? TARGETS_NAME, 'int64', shape.slice(0, -1) as Dim[])
  const loss = softmaxCrossEntropy(b, out.name, targets, shape.length, classes, options)
  b.output(loss, out.dtype, [])
  return loss
}

/**
 * The output's shape: as declared, or, where the declaration has symbols, as inferred from the graph's
 * inputs — an exporter may declare an output symbolic (TorchScript's does after an Einsum) that the
 * static inputs fix, and the targets must be shaped like it.
 */
function outputShape(graph: Graph, out: ValueInfo): Dim[] | undefined {
  if (out.shape === undefined || out.shape.every((d) => typeof d === 'number')) return out.shape
  try {
    const inferred = inferShapes(graph).get(out.name)?.shape
    return inferred !== undefined && inferred.length === out.shape.length ? inferred : out.shape
  } catch {
    return out.shape // a graph shape inference cannot follow keeps its declaration
  }
}

/** Cross-entropy of a model's logits (classes last) against int64 targets; declares `loss` an output. */
export function crossEntropyLoss(
  model: ModelBuilder,
  logits: Value,
  targets: Value,
  options: CrossEntropyOptions = {},
): Value {
  const classes = logits.shape[logits.shape.length - 1]
  if (typeof classes !== 'number')
    throw new LayerShapeError('CrossEntropy', `needs static classes, got [${logits.shape}]`)
  const name = softmaxCrossEntropy(
    model.builder,
    logits.name,
    targets.name,
    logits.shape.length,
    classes,
    options,
  )
  return model.output({ name, dtype: logits.dtype, shape: [] })
}

/** Mean squared error; declares `loss` an output. */
export function mseLoss(model: ModelBuilder, prediction: Value, target: Value): Value {
  return model.output({
    name: mse(model.builder, prediction.name, target.name),
    dtype: prediction.dtype,
    shape: [],
  })
}
