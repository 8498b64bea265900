import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  countParameters,
  DanglingValueError,
  DuplicateNameError,
  type Graph,
  GraphBuilder,
  GraphCycleError,
  InvalidGraphError,
  type Node,
  UnknownOpError,
  validateGraph,
  zeros,
} from '../src/index.ts'

function node(name: string, opType: string, inputs: string[], outputs: string[]): Node {
  return { name, opType, inputs, outputs, attributes: {}, scope: '' }
}

function graphOf(nodes: Node[], outputs = ['y']): Graph {
  return {
    name: 'g',
    nodes,
    inputs: [{ name: 'x', dtype: 'float32', shape: [2] }],
    outputs: outputs.map((name) => ({ name, dtype: 'float32' as const })),
    initializers: new Map([['w', zeros('float32', [2])]]),
    parameters: new Set(['w']),
    valueInfo: new Map(),
    opset: 18,
  }
}

test('validateGraph returns a topological order that keeps a sorted graph as it is', () => {
  const sorted = [node('a', 'Add', ['x', 'w'], ['h']), node('b', 'Relu', ['h'], ['y'])]
  assert.deepEqual(
    validateGraph(graphOf(sorted)).map((n) => n.name),
    ['a', 'b'],
  )
  const shuffled = [
    node('b', 'Relu', ['h'], ['y']),
    node('c', 'Neg', ['x'], ['z']),
    node('a', 'Add', ['x', 'w'], ['h']),
  ]
  assert.deepEqual(
    validateGraph(graphOf(shuffled)).map((n) => n.name),
    ['c', 'a', 'b'],
  )
})

test('each structural problem is a typed error naming the node', () => {
  const cycle = [
    node('a', 'Add', ['x', 'q'], ['h']),
    node('b', 'Relu', ['h'], ['q']),
    node('c', 'Relu', ['h'], ['y']),
  ]
  assert.throws(
    () => validateGraph(graphOf(cycle)),
    (e: Error) => e instanceof GraphCycleError && /'a'/.test(e.message),
  )
  const dangling = [node('a', 'Add', ['x', 'nope'], ['y'])]
  assert.throws(
    () => validateGraph(graphOf(dangling)),
    (e: Error) => e.name === 'DanglingValueError' && /node 'a' reads 'nope'/.test(e.message),
  )
  assert.throws(() => validateGraph(graphOf([node('a', 'Relu', ['x'], ['h'])])), DanglingValueError)
  const twice = [node('a', 'Relu', ['x'], ['y']), node('a', 'Neg', ['x'], ['z'])]
  assert.throws(() => validateGraph(graphOf(twice)), DuplicateNameError)
  const twoProducers = [node('a', 'Relu', ['x'], ['y']), node('b', 'Neg', ['x'], ['y'])]
  assert.throws(
    () => validateGraph(graphOf(twoProducers)),
    (e: Error) => e instanceof DuplicateNameError && /'b'/.test(e.message),
  )
  const shadow = [node('a', 'Relu', ['x'], ['w']), node('b', 'Relu', ['w'], ['y'])]
  assert.throws(() => validateGraph(graphOf(shadow)), DuplicateNameError)
  const unknown = [node('a', 'FancyOp', ['x'], ['y'])]
  assert.throws(
    () => validateGraph(graphOf(unknown)),
    (e: Error) => e instanceof UnknownOpError && /'a'/.test(e.message),
  )
  assert.doesNotThrow(() => validateGraph(graphOf(unknown), { knownOps: new Set(['FancyOp']) }))
  assert.doesNotThrow(() => validateGraph(graphOf(unknown), { knownOps: 'any' }))
  const g = graphOf([node('a', 'Relu', ['x'], ['y'])])
  g.parameters.add('ghost')
  assert.throws(() => validateGraph(g), InvalidGraphError)
})

test('GraphBuilder names values uniquely under a scope stack', () => {
  const b = new GraphBuilder('m')
  const x = b.input('x', 'float32', ['batch', 4])
  const w = b.scope('h', () => b.scope(0, () => b.initializer('weight', zeros('float32', [4, 4]), true)))
  assert.equal(w, 'h.0.weight')
  const y1 = b.scope('h', () => b.op('MatMul', [x, w]))
  const y2 = b.scope('h', () => b.op('MatMul', [y1, w]))
  assert.notEqual(y1, y2)
  b.output(y2)
  const g = b.build()
  assert.deepEqual(
    g.nodes.map((n) => n.scope),
    ['h', 'h'],
  )
  assert.equal(countParameters(g), 16)
  assert.throws(() => b.input('x', 'float32', [1]), InvalidGraphError)
  // editing an existing graph sees its names
  const e = GraphBuilder.edit(g)
  assert.equal(e.unique('h.0.weight'), 'h.0.weight_1')
})
