import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { attr, type Node } from '../src/graph/types.ts'
import { OP_TYPES } from '../src/ops/index.ts'
import { hasKernel, runReference } from '../src/reference/index.ts'
import { float32, int64 } from '../src/tensor.ts'
import { graphOf, node, values } from './ops-helpers.ts'

const linear = () =>
  graphOf({
    inputs: { x: ['float32', ['batch', 2]] },
    initializers: { w: float32([2, 1], [1, 2]), b: float32([1], [0.5]) },
    parameters: ['w', 'b'],
    nodes: [node('MatMul', ['x', 'w'], ['h']), node('Add', ['h', 'b'], ['y'])],
    outputs: ['y'],
  })

describe('runReference', () => {
  it('has a kernel for every op of the contract', () => {
    assert.deepEqual(
      OP_TYPES.filter((op) => !hasKernel(op)),
      [],
    )
  })
  it('runs a graph, returns outputs and fetched intermediates, accepts overridden initializers', () => {
    const g = linear()
    const x = float32([3, 2], [1, 1, 2, 0, 0, -1])
    const out = runReference(g, { x }, { fetch: ['h'] })
    assert.deepEqual(values(out.y), [3.5, 2.5, -1.5])
    assert.deepEqual(values(out.h), [3, 2, -2])
    // a perturbed parameter, as finite differences feed it
    assert.deepEqual(values(runReference(g, { x, w: float32([2, 1], [1, 0]) }).y), [1.5, 2.5, 0.5])
  })
  it('validates feeds: missing, unknown name, dtype, shape and symbol consistency', () => {
    const g = linear()
    assert.throws(() => runReference(g, {}), { name: 'MissingFeedError', message: /'x'/ })
    const x = float32([1, 2], [1, 1])
    assert.throws(() => runReference(g, { x, z: x }), { name: 'FeedMismatchError', message: /'z'/ })
    assert.throws(() => runReference(g, { x: int64([1, 2], [1, 1]) }), {
      name: 'FeedMismatchError',
      message: /float32/,
    })
    assert.throws(() => runReference(g, { x: float32([2], [1, 1]) }), {
      name: 'FeedMismatchError',
      message: /shape/,
    })
    const two = graphOf({
      inputs: { a: ['float32', ['n']], b: ['float32', ['n']] },
      nodes: [node('Add', ['a', 'b'], ['c'])],
      outputs: ['c'],
    })
    assert.throws(() => runReference(two, { a: float32([2], [1, 2]), b: float32([3], [1, 2, 3]) }), {
      name: 'FeedMismatchError',
    })
    assert.throws(() => runReference(g, { x }, { fetch: ['nope'] }), { name: 'FeedMismatchError' })
  })
  it('reports undefined values and unsupported ops with the node name', () => {
    const rejects = (only: Node, error: { name: string; message?: RegExp }) => {
      const g = graphOf({ inputs: { a: ['float32', [1]] }, nodes: [only], outputs: ['c'] })
      assert.throws(() => runReference(g, { a: float32([1], [1]) }), error)
    }
    rejects(node('Relu', ['q'], ['c'], {}, 'act'), { name: 'UndefinedValueError', message: /act/ })
    rejects(node('FusedGelu', ['a'], ['c'], {}, 'f'), { name: 'UnsupportedOpError', message: /FusedGelu/ })
    rejects({ ...node('Relu', ['a'], ['c']), domain: 'com.microsoft' }, { name: 'UnsupportedOpError' })
  })
  it('a wrong attribute kind is an AttributeError naming the node', () => {
    const g = graphOf({
      inputs: { a: ['float32', [2, 2]] },
      nodes: [node('Transpose', ['a'], ['c'], { perm: attr.int(1) }, 'tr')],
      outputs: ['c'],
    })
    assert.throws(() => runReference(g, { a: float32([2, 2], [1, 2, 3, 4]) }), {
      name: 'AttributeError',
      message: /tr.*perm/,
    })
  })
  it('an impossible allocation is a KernelError naming the node, not a bare RangeError', () => {
    const g = graphOf({
      initializers: { s: int64([3], [1 << 20, 1 << 20, 1 << 20]) },
      nodes: [node('ConstantOfShape', ['s'], ['huge'], {}, 'too.big')],
      outputs: ['huge'],
    })
    assert.throws(() => runReference(g, {}), { name: 'KernelError', message: /too\.big/ })
  })
})
