import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { attr } from '../src/graph/types.ts'
import { inferShapes, inferTypes, isSupportedOp, OP_TYPES } from '../src/ops/index.ts'
import { SHAPE_FNS } from '../src/ops/shape/index.ts'
import { float32, int64 } from '../src/tensor.ts'
import { graphOf, node } from './ops-helpers.ts'

const shapeOf = (g: ReturnType<typeof graphOf>, v: string, bindings?: Record<string, number>) =>
  inferShapes(g, bindings).get(v)?.shape

describe('op contract', () => {
  it('has a shape function for every op', () => {
    assert.deepEqual(
      OP_TYPES.filter((op) => !SHAPE_FNS[op]),
      [],
    )
    assert.ok(isSupportedOp('MatMul'))
    assert.ok(!isSupportedOp('MatMul', 'com.microsoft'))
    assert.ok(!isSupportedOp('FusedMatMul'))
  })
})

describe('inferShapes: elementwise and broadcasting', () => {
  it('broadcasts numpy style, symbols included', () => {
    const g = graphOf({
      inputs: { a: ['float32', ['batch', 1, 5]], b: ['float32', [4, 1]] },
      nodes: [node('Add', ['a', 'b'], ['c']), node('Equal', ['a', 'b'], ['e'])],
      outputs: ['c'],
    })
    assert.deepEqual(shapeOf(g, 'c'), ['batch', 4, 5])
    assert.deepEqual(shapeOf(g, 'c', { batch: 2 }), [2, 4, 5])
    assert.equal(inferShapes(g).get('e')?.dtype, 'bool')
  })
  it('names the node on a broadcast error', () => {
    const g = graphOf({
      inputs: { a: ['float32', [2, 3]], b: ['float32', [4]] },
      nodes: [node('Mul', ['a', 'b'], ['c'], {}, 'blocks.0.mul')],
      outputs: ['c'],
    })
    assert.throws(() => inferShapes(g), { name: 'BroadcastError', message: /blocks\.0\.mul/ })
  })
  it('rejects mixed dtypes and unknown ops and undefined inputs', () => {
    const mixed = graphOf({
      inputs: { a: ['float32', [2]], b: ['float64', [2]] },
      nodes: [node('Add', ['a', 'b'], ['c'])],
      outputs: ['c'],
    })
    assert.throws(() => inferShapes(mixed), { name: 'ShapeInferenceError' })
    const unknown = graphOf({
      inputs: { a: ['float32', [2]] },
      nodes: [node('Frobnicate', ['a'], ['c'])],
      outputs: ['c'],
    })
    assert.throws(() => inferShapes(unknown), { name: 'UnsupportedOpError', message: /Frobnicate/ })
    const dangling = graphOf({
      inputs: { a: ['float32', [2]] },
      nodes: [node('Relu', ['x'], ['c'])],
      outputs: ['c'],
    })
    assert.throws(() => inferShapes(dangling), { name: 'UndefinedValueError' })
  })
  it('keeps unknown ranks unknown instead of failing', () => {
    const g = graphOf({
      inputs: { a: ['float32', undefined] },
      nodes: [node('Relu', ['a'], ['c']), node('Shape', ['c'], ['s']), node('Dropout', ['c'], ['d', 'mask'])],
      outputs: ['s'],
    })
    const t = inferShapes(g)
    assert.equal(t.get('c')?.shape, undefined)
    assert.equal(t.get('s')?.dtype, 'int64')
    assert.deepEqual([t.get('d')?.dtype, t.get('mask')?.dtype], ['float32', 'bool'])
  })
})

describe('inferShapes: linear algebra', () => {
  it('MatMul with batch broadcasting and 1-D operands', () => {
    const g = graphOf({
      inputs: { a: ['float32', ['b', 1, 3, 4]], w: ['float32', [5, 4, 6]], v: ['float32', [4]] },
      nodes: [
        node('MatMul', ['a', 'w'], ['y']),
        node('MatMul', ['a', 'v'], ['z']),
        node('MatMul', ['v', 'w'], ['u']),
      ],
      outputs: ['y'],
    })
    const t = inferShapes(g)
    assert.deepEqual(t.get('y')?.shape, ['b', 5, 3, 6])
    assert.deepEqual(t.get('z')?.shape, ['b', 1, 3])
    assert.deepEqual(t.get('u')?.shape, [5, 6])
  })
  it('MatMul inner dim mismatch is a ShapeInferenceError', () => {
    const g = graphOf({
      inputs: { a: ['float32', [2, 3]], b: ['float32', [4, 5]] },
      nodes: [node('MatMul', ['a', 'b'], ['y'])],
      outputs: ['y'],
    })
    assert.throws(() => inferShapes(g), { name: 'ShapeInferenceError', message: /inner/ })
  })
  it('Gemm with transB', () => {
    const g = graphOf({
      inputs: { x: ['float32', [8, 3]], w: ['float32', [10, 3]], b: ['float32', [10]] },
      nodes: [node('Gemm', ['x', 'w', 'b'], ['y'], { transB: attr.int(1) })],
      outputs: ['y'],
    })
    assert.deepEqual(shapeOf(g, 'y'), [8, 10])
  })
})

describe('inferShapes: shape arithmetic', () => {
  it('Reshape with 0 and -1, from an initializer', () => {
    const g = graphOf({
      inputs: { x: ['float32', ['b', 'seq', 768]] },
      initializers: { s: int64([4], [0, 0, 12, -1]), f: int64([2], [-1, 768]) },
      nodes: [node('Reshape', ['x', 's'], ['y']), node('Reshape', ['x', 'f'], ['z'])],
      outputs: ['y'],
    })
    const t = inferShapes(g)
    assert.deepEqual(t.get('y')?.shape, ['b', 'seq', 12, 64])
    assert.deepEqual(t.get('z')?.shape, ['b*seq', 768])
  })
  it('follows Shape → Gather → Unsqueeze → Concat → Reshape, symbolically and folded', () => {
    const g = graphOf({
      inputs: { x: ['float32', ['batch', 16, 8]] },
      nodes: [
        node('Shape', ['x'], ['s']),
        node('Constant', [], ['i0'], { value: attr.tensor(int64([], [0])) }),
        node('Gather', ['s', 'i0'], ['b']),
        node('Constant', [], ['ax'], { value_ints: attr.ints([0]) }),
        node('Unsqueeze', ['b', 'ax'], ['b1']),
        node('Constant', [], ['rest'], { value_ints: attr.ints([4, 4, -1]) }),
        node('Concat', ['b1', 'rest'], ['shape'], { axis: attr.int(0) }),
        node('Reshape', ['x', 'shape'], ['y']),
      ],
      outputs: ['y'],
    })
    assert.deepEqual(shapeOf(g, 'y'), ['batch', 4, 4, 8])
    assert.deepEqual(shapeOf(g, 'y', { batch: 3 }), [3, 4, 4, 8])
    const folded = inferTypes(g, { bindings: { batch: 3 } }).constants.get('shape')
    assert.deepEqual(folded && Array.from(folded.data as BigInt64Array), [3n, 4n, 4n, -1n])
  })
  it('Transpose, Softmax, ReduceSum/ReduceMean by opset, Gather, Constant', () => {
    const g = graphOf({
      inputs: { x: ['float32', [2, 3, 4]], ids: ['int64', ['b', 'seq']] },
      initializers: { axes: int64([1], [1]), emb: float32([10, 4], new Float32Array(40)) },
      nodes: [
        node('Transpose', ['x'], ['t'], { perm: attr.ints([2, 0, 1]) }),
        node('Softmax', ['t'], ['sm']),
        node('ReduceSum', ['x', 'axes'], ['rs'], { keepdims: attr.int(0) }),
        node('ReduceMean', ['x', 'axes'], ['rm']),
        node('Gather', ['emb', 'ids'], ['e']),
        node('Constant', [], ['c'], { value_float: attr.float(2) }),
      ],
      outputs: ['sm'],
    })
    const t = inferShapes(g)
    assert.deepEqual(t.get('t')?.shape, [4, 2, 3])
    assert.deepEqual(t.get('sm')?.shape, [4, 2, 3])
    assert.deepEqual(t.get('rs')?.shape, [2, 4])
    assert.deepEqual(t.get('rm')?.shape, [2, 1, 4])
    assert.deepEqual(t.get('e')?.shape, ['b', 'seq', 4])
    assert.deepEqual(t.get('c'), { name: 'c', dtype: 'float32', shape: [] })
  })
  it('ReduceMean takes axes as an attribute before opset 18', () => {
    const g = graphOf({
      opset: 13,
      inputs: { x: ['float32', [2, 3, 4]] },
      nodes: [node('ReduceMean', ['x'], ['m'], { axes: attr.ints([-1]) })],
      outputs: ['m'],
    })
    assert.deepEqual(shapeOf(g, 'm'), [2, 3, 1])
  })
  it('an initializer that is also a graph input is a default, not a constant', () => {
    const g = graphOf({
      inputs: { x: ['float32', [6]], s: ['int64', [2]] },
      initializers: { s: int64([2], [2, 3]) },
      nodes: [node('Reshape', ['x', 's'], ['y'])],
      outputs: ['y'],
    })
    const { types, constants } = inferTypes(g)
    assert.equal(constants.has('s'), false)
    assert.equal(types.get('y')?.shape?.length, 2)
  })
  it('slices a fixed buffer to a symbolic length (mask[:t, :t] of a dynamic export)', () => {
    const g = graphOf({
      inputs: { x: ['float32', ['b', 't', 4]] },
      initializers: {
        mask: float32([16, 16], new Float32Array(256)),
        i1: int64([1], [1]),
        zero: int64([2], [0, 0]),
      },
      nodes: [
        node('Shape', ['x'], ['s']),
        node('Gather', ['s', 'i1'], ['t']),
        node('Concat', ['t', 't'], ['ends'], { axis: attr.int(0) }),
        node('Slice', ['mask', 'zero', 'ends'], ['m']),
      ],
      outputs: ['m'],
    })
    assert.deepEqual(shapeOf(g, 'm'), ['t', 't'])
    assert.deepEqual(shapeOf(g, 'm', { t: 5 }), [5, 5])
  })
  it('does not fold large constants (a ConstantOfShape of a vocabulary-sized matrix)', () => {
    const g = graphOf({
      initializers: { s: int64([2], [50257, 768]), small: int64([1], [3]) },
      nodes: [node('ConstantOfShape', ['s'], ['big']), node('ConstantOfShape', ['small'], ['tiny'])],
      outputs: ['big'],
    })
    const { types, constants } = inferTypes(g)
    assert.deepEqual(types.get('big')?.shape, [50257, 768])
    assert.equal(constants.has('big'), false)
    assert.equal(constants.get('tiny')?.data.length, 3)
  })
})
