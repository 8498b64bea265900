import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { attr } from '../src/graph/types.ts'
import { inferShapes, opCost, opCosts } from '../src/ops/index.ts'
import { int64, zeros } from '../src/tensor.ts'
import { gpt2, resnet } from '../src/zoo/index.ts'
import { graphOf, node } from './ops-helpers.ts'

describe('opCost / opCosts', () => {
  const mlp = () =>
    graphOf({
      inputs: { x: ['float32', ['batch', 784]] },
      initializers: {
        w1: zeros('float32', [128, 784]),
        b1: zeros('float32', [128]),
        w2: zeros('float32', [128, 10]),
      },
      parameters: ['w1', 'b1', 'w2'],
      nodes: [
        { ...node('Gemm', ['x', 'w1', 'b1'], ['h'], { transB: attr.int(1) }), scope: 'fc1' },
        { ...node('Relu', ['h'], ['r']), scope: 'fc1' },
        { ...node('MatMul', ['r', 'w2'], ['logits']), scope: 'fc2' },
        { ...node('Softmax', ['logits'], ['p']), scope: 'head' },
      ],
      outputs: ['p'],
    })
  it('counts a multiply-add as 2 FLOPs and elementwise ops as 1 per element', () => {
    const { nodes, total, byScope } = opCosts(mlp(), { batch: 8 })
    assert.deepEqual(
      nodes.map((n) => n.flops),
      [2 * 8 * 128 * 784 + 8 * 128, 8 * 128, 2 * 8 * 10 * 128, 5 * 8 * 10],
    )
    assert.deepEqual(nodes[0], {
      node: nodes[0].node,
      opType: 'Gemm',
      scope: 'fc1',
      flops: nodes[0].flops,
      paramBytes: (128 * 784 + 128) * 4,
      outputBytes: 8 * 128 * 4,
    })
    assert.equal(total.paramBytes, (128 * 784 + 128 + 128 * 10) * 4)
    assert.equal(byScope.get('fc2')?.flops, 2 * 8 * 10 * 128)
    assert.equal(byScope.get('fc1')?.outputBytes, 2 * 8 * 128 * 4)
  })
  it('needs bound symbols', () => {
    assert.throws(() => opCosts(mlp()), { name: 'ShapeInferenceError', message: /batch/ })
  })
  it('Conv, pools, and a parameter used twice counted once in the total', () => {
    const g = graphOf({
      inputs: { x: ['float32', [2, 4, 8, 8]], ids: ['int64', [3]] },
      initializers: {
        w: zeros('float32', [6, 2, 3, 3]),
        b: zeros('float32', [6]),
        emb: zeros('float32', [10, 5]),
        s: int64([2], [0, -1]),
      },
      parameters: ['w', 'b', 'emb'],
      nodes: [
        node('Conv', ['x', 'w', 'b'], ['y'], { group: attr.int(2), pads: attr.ints([1, 1, 1, 1]) }),
        node('MaxPool', ['y'], ['m'], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) }),
        node('Gather', ['emb', 'ids'], ['e']),
        node('Transpose', ['emb'], ['embT']),
        node('MatMul', ['e', 'embT'], ['tied']),
        node('Reshape', ['m', 's'], ['m2']),
      ],
      outputs: ['m'],
    })
    const types = inferShapes(g)
    assert.equal(opCost(g.nodes[0], types, g.parameters).flops, 2 * 2 * 6 * 8 * 8 * (2 * 9) + 2 * 6 * 8 * 8)
    assert.equal(opCost(g.nodes[1], types).flops, 2 * 6 * 4 * 4 * 4)
    assert.equal(opCost(g.nodes[2], types).flops, 0)
    const { total } = opCosts(g)
    assert.equal(total.paramBytes, (6 * 2 * 9 + 6 + 10 * 5) * 4)
    assert.equal(types.get('m2')?.shape?.join(), '2,96')
  })
  it('GPT-2 124M: MatMul FLOPs equal 2·T·(12·L·d² + 2·L·T·d + d·V), parameters the published count', () => {
    const { graph } = gpt2({ config: '124M', shapesOnly: true, batch: 1 })
    const costs = opCosts(graph)
    const [T, d, L, V] = [1024, 768, 12, 50257]
    const matmul = costs.nodes.filter((n) => n.opType === 'MatMul').reduce((s, n) => s + n.flops, 0)
    assert.equal(matmul, 2 * T * (12 * L * d * d + 2 * L * T * d + d * V))
    assert.equal(costs.total.paramBytes, 124_439_808 * 4)
  })
  it('ResNet-18/50/101 at 224²: Conv and Gemm multiply-adds match torchvision (1.81, 4.09, 7.80 G)', () => {
    const published = { 18: 1.81, 50: 4.09, 101: 7.8 } as const
    for (const depth of [18, 50, 101] as const) {
      const { graph } = resnet({ depth, shapesOnly: true, batch: 1 })
      const macs = opCosts(graph)
        .nodes.filter((n) => n.opType === 'Conv' || n.opType === 'Gemm')
        .reduce((s, n) => s + n.flops / 2, 0)
      assert.ok(Math.abs(macs / 1e9 - published[depth]) < 0.01, `resnet${depth}: ${macs / 1e9} GMACs`)
    }
  })
  it('Einsum counts operands × the product of all letter sizes (2·b·i·j·k for a batched matmul)', () => {
    const g = graphOf({
      inputs: { a: ['float32', [2, 3, 5]], b: ['float32', [2, 5, 4]] },
      nodes: [node('Einsum', ['a', 'b'], ['y'], { equation: attr.string('bij,bjk->bik') })],
      outputs: ['y'],
    })
    assert.equal(opCosts(g).total.flops, 2 * 2 * 3 * 5 * 4)
  })
})
