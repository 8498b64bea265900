/**
 * SoftmaxCrossEntropyLoss written as primitives that onnxruntime's WebGPU provider has kernels for.
 * That provider has neither SoftmaxCrossEntropyLoss nor LogSoftmax (onnxruntime expands the loss's
 * function body into LogSoftmax + NegativeLogLikelihoodLoss and runs them on the CPU), and no int64
 * Equal or Where: each training step copied the logits — [positions, vocab] floats, 800 MB for
 * GPT-2 small at 4×1024 tokens — to the CPU and back. Here every op reading the logits is a float
 * op the provider has, and the labels are compared as int32: that GPT-2 small training step went
 * from 2.2 s to 0.84–0.90 s on an H100 (onnxruntime-node 1.29, WebGPU), the same loss to 7 digits.
 *
 *   shift = Ceil(ReduceMax(x))                per position, over the classes
 *   s     = x − shift                         ≤ 0 where it matters, so exp(s) cannot overflow
 *   lse   = Log(ReduceSum(Exp(s)))            log Σ exp(x) − shift
 *   nll   = lse − GatherElements(s, label)    = −log softmax(x)[label]
 *
 * The shift is rounded up to an integer so that it is a constant to autodiff (Ceil passes no
 * gradient): log-sum-exp is exact for any shift, its true derivative with respect to the shift is
 * zero (Σ softmax = 1), and a differentiable ReduceMax would cost the backward four more passes over
 * the logits to compute that zero. Its ≤ 1 distance from the maximum keeps Σ exp(s) in [e⁻¹, C].
 * Not ReduceLogSumExp: onnxruntime's WebGPU kernel sums exp(x) unshifted, and its CPU kernel took
 * 42 of a 98 ms loss step (1024 × 8192 logits, 2 threads) where Exp + ReduceSum + Log take 7.
 *
 * The backward autodiff emits is g/Σ·exp(s) (the softmax, from the saved Exp) minus g scattered at
 * the labels (GatherElements's rule): the fused rule's (softmax − onehot)·g, with no one-hot of the
 * logits' size built from an int64 comparison. On onnxruntime's CPU that loss step (forward and
 * backward) measured 0.91× the SoftmaxCrossEntropyLoss node's with its fused rule, and whole zoo GPT
 * training steps 0.82–1.01× (mini, d384 and small; 1 and 4 threads of a Xeon). Below opset 16
 * the label is picked by an int32 one-hot product instead: see pickLabels.
 */
import { InvalidGraphError } from '../graph/errors.ts'
import { attr, type Dim, type Node } from '../graph/types.ts'
import { readAttrs } from '../ops/attrs.ts'
import { AttributeError } from '../ops/errors.ts'
import type { DType } from '../tensor.ts'
import type { GradEmitter } from './emitter.ts'

/** ReduceMax and ReduceMean take their axes as an input from this opset on (ReduceSum from 13). */
const REDUCE_AXES_INPUT_SINCE = 18
/** GatherElements's gradient is a ScatterElements with reduction 'add', from this opset on. */
const SCATTER_ADD_SINCE = 16

export interface CrossEntropyTypes {
  /** the scores' dtype (a float) */
  dtype: DType
  /** the scores' shape, [N, C, d…]: C must be static below opset 16 (see pickLabels) */
  shape: readonly Dim[]
  /** the labels' dtype (int32 or int64) */
  labels: DType
  opset: number
}

/** Emits `node` (a SoftmaxCrossEntropyLoss) as primitives writing the node's own outputs. */
export function softmaxCrossEntropyPrimitives(emit: GradEmitter, node: Node, types: CrossEntropyTypes): void {
  const a = readAttrs(node)
  const [x, labels, weights] = node.inputs
  const [output, logProb] = node.outputs
  const classes = [1]
  const maximum = reduce(emit, 'ReduceMax', x, classes, types.opset)
  // the first node keeps the loss node's name, so that a stage spec naming the loss node still
  // places its primitives (the others follow their producers: see partition/assign.ts)
  emit.nodes[emit.nodes.length - 1].name = node.name
  const s = emit.op('Sub', [x, emit.op('Ceil', [maximum])])
  const lse = emit.op('Log', [reduce(emit, 'ReduceSum', emit.op('Exp', [s]), classes, types.opset)])
  if (logProb) emit.op('Sub', [s, lse], {}, logProb)
  const label = types.labels === 'int32' ? labels : emit.cast(labels, 'int32')
  const ignore = a.optInt('ignore_index')
  const ignored = ignore === undefined ? undefined : emit.op('Equal', [label, emit.int32s([ignore])])
  // an ignored label may lie outside [0, C): it reads class 0, and its weight is 0
  const safe = ignored === undefined ? label : emit.op('Where', [ignored, emit.int32s([0]), label])
  const picked = pickLabels(emit, s, emit.op('Unsqueeze', [safe, emit.ints(classes)]), types)
  let weight = weights ? emit.op('Gather', [weights, safe], { axis: attr.int(0) }) : undefined
  if (ignored !== undefined) {
    const kept = emit.cast(emit.op('Not', [ignored]), types.dtype)
    weight = weight === undefined ? kept : emit.op('Mul', [weight, kept])
  }
  const reduction = a.string('reduction')
  if (!['none', 'sum', 'mean'].includes(reduction))
    throw new AttributeError(node, `reduction should be none, sum or mean, found '${reduction}'`)
  const perPosition = reduction === 'none' ? output : undefined
  const squeezed = weight === undefined ? perPosition : undefined
  let loss = emit.op('Squeeze', [emit.op('Sub', [lse, picked]), emit.ints(classes)], {}, squeezed)
  if (weight !== undefined) loss = emit.op('Mul', [loss, weight], {}, perPosition)
  if (reduction === 'none') return
  const keepNone = { keepdims: attr.int(0) }
  if (reduction === 'sum') emit.op('ReduceSum', [loss], keepNone, output)
  else if (weight === undefined) emit.op('ReduceMean', [loss], keepNone, output)
  else
    emit.op(
      'Div',
      [emit.op('ReduceSum', [loss], keepNone), emit.op('ReduceSum', [weight], keepNone)],
      {},
      output,
    )
}

/**
 * s[n, label, d…] as [N, 1, d…]. Below opset 16 GatherElements has no gradient (ScatterElements
 * cannot add), so the label is picked by a one-hot product there: Σ s·(label = class) over C.
 */
function pickLabels(e: GradEmitter, s: string, label: string, types: CrossEntropyTypes): string {
  if (types.opset >= SCATTER_ADD_SINCE) return e.op('GatherElements', [s, label], { axis: attr.int(1) })
  const [, classes, ...rest] = types.shape
  if (typeof classes !== 'number')
    throw new InvalidGraphError(
      `cross-entropy needs static classes below opset ${SCATTER_ADD_SINCE}, got [${types.shape}]`,
    )
  const ids = e.int32s(
    Array.from({ length: classes }, (_, i) => i),
    [1, classes, ...rest.map(() => 1)],
  )
  const oneHot = e.cast(e.op('Equal', [label, ids]), types.dtype)
  return reduce(e, 'ReduceSum', e.op('Mul', [s, oneHot]), [1], types.opset)
}

/** A reduction over `axes`, kept, with the axes where the opset wants them (input or attribute). */
function reduce(e: GradEmitter, opType: string, value: string, axes: number[], opset: number): string {
  const keep = { keepdims: attr.int(1) }
  if (opset >= REDUCE_AXES_INPUT_SINCE || opType === 'ReduceSum')
    return e.op(opType, [value, e.ints(axes)], keep)
  return e.op(opType, [value], { ...keep, axes: attr.ints(axes) })
}
