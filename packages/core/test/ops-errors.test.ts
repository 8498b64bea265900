/** Shape inference rejects malformed nodes with a typed error that names the node. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Attribute, Dim } from '../src/graph/types.ts'
import { inferShapes } from '../src/ops/index.ts'
import { int64, type Tensor } from '../src/tensor.ts'
import { graphOf, node } from './ops-helpers.ts'

function infer(
  op: string,
  inputs: Record<string, Dim[] | Tensor>,
  attributes: Record<string, Attribute> = {},
  opset = 18,
) {
  const isTensor = (v: Dim[] | Tensor): v is Tensor => !Array.isArray(v)
  const g = graphOf({
    opset,
    inputs: Object.fromEntries(
      Object.entries(inputs).flatMap(([n, v]) => (isTensor(v) ? [] : [[n, ['float32', v]]])),
    ),
    initializers: Object.fromEntries(
      Object.entries(inputs).flatMap(([n, v]) => (isTensor(v) ? [[n, v]] : [])),
    ),
    nodes: [node(op, Object.keys(inputs), ['y'], attributes, 'the.node')],
    outputs: ['y'],
  })
  return () => inferShapes(g)
}

const named = (name: string, message?: RegExp) => ({ name, message: message ?? /the\.node/ })

describe('shape inference errors', () => {
  it('Concat with clashing dims, Transpose with a bad perm, Gather with a bad axis', () => {
    assert.throws(
      infer('Concat', { a: [2, 3], b: [3, 3] }, { axis: { kind: 'int', value: 1 } }),
      named('ShapeInferenceError'),
    )
    assert.throws(
      infer('Transpose', { a: [2, 3] }, { perm: { kind: 'ints', value: [0, 0] } }),
      named('ShapeInferenceError'),
    )
    assert.throws(
      infer('Gather', { a: [2, 3], i: int64([1], [0]) }, { axis: { kind: 'int', value: 2 } }),
      named('AttributeError'),
    )
  })
  it('Reshape with two -1 or a wrong element count, Split sizes that do not sum', () => {
    assert.throws(infer('Reshape', { a: [2, 3], s: int64([2], [-1, -1]) }), named('ShapeInferenceError'))
    assert.throws(infer('Reshape', { a: [2, 3], s: int64([2], [4, 2]) }), named('ShapeInferenceError'))
    assert.throws(infer('Split', { a: [5], s: int64([1], [4]) }), named('ShapeInferenceError'))
  })
  it('Conv with a kernel larger than the padded input, pool without kernel_shape', () => {
    assert.throws(
      infer('Conv', { x: [1, 1, 2, 2], w: [1, 1, 3, 3] }),
      named('ShapeInferenceError', /does not fit/),
    )
    assert.throws(infer('MaxPool', { x: [1, 1, 4, 4] }), named('ShapeInferenceError'))
    assert.throws(
      infer('Conv', { x: [1, 1, 4, 4], w: [1, 1, 3, 3] }, { auto_pad: { kind: 'string', value: 'SAME' } }),
      named('ShapeInferenceError'),
    )
  })
  it('Squeeze of a dim that is not 1, Unsqueeze with repeated axes, losses with bad ranks', () => {
    assert.throws(infer('Squeeze', { a: [2, 3], ax: int64([1], [0]) }), named('ShapeInferenceError'))
    assert.throws(infer('Unsqueeze', { a: [2, 3], ax: int64([2], [0, 0]) }), named('ShapeInferenceError'))
    assert.throws(
      infer('Unsqueeze', { a: [2, 3] }, { axes: { kind: 'ints', value: [0, -5] } }, 11),
      named('AttributeError'),
    )
    assert.throws(
      infer('SoftmaxCrossEntropyLoss', { a: [2, 3], t: int64([2, 1], [0, 1]) }),
      named('ShapeInferenceError'),
    )
  })
  it('Gemm and MatMul mismatches, Where with a non-bool condition', () => {
    assert.throws(infer('Gemm', { a: [2, 3], b: [2, 4] }), named('ShapeInferenceError'))
    assert.throws(infer('MatMul', { a: [2, 2, 3], b: [3, 3, 4] }), named('BroadcastError'))
    assert.throws(infer('Where', { c: [2], a: [2], b: [2] }), named('ShapeInferenceError', /bool/))
  })
  it('an attribute that this opset takes as an input is an AttributeError', () => {
    const bad = infer('ReduceMean', { a: [2, 3] }, { axes: { kind: 'ints', value: [1] } }, 18)
    assert.throws(bad, named('AttributeError', /input from this opset/))
    assert.throws(
      infer('Unsqueeze', { a: [2, 3] }, { axes: { kind: 'ints', value: [0] } }, 13),
      named('AttributeError'),
    )
  })
  it('wrong input or output counts are ShapeInferenceErrors', () => {
    assert.throws(infer('MatMul', { a: [2, 2] }), named('ShapeInferenceError', /takes 2 inputs, found 1/))
    assert.throws(infer('Relu', { a: [2], b: [2] }), named('ShapeInferenceError', /takes 1 inputs/))
    assert.throws(
      infer('Gemm', { a: [2, 2], b: [2, 2], c: [2], d: [2] }),
      named('ShapeInferenceError', /2 to 3/),
    )
    assert.throws(
      infer('Concat', {}, { axis: { kind: 'int', value: 0 } }),
      named('ShapeInferenceError', /at least 1/),
    )
  })
})
