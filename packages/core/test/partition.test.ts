/**
 * Partitioning: running the stages one by one with the reference interpreter — forward in order,
 * backward in reverse, summing the gradients of values read by several stages and of tied
 * parameters — reproduces the whole graph's loss and gradients (buildTrainingGraph).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decomposeTrainingOps } from '../src/autodiff/decompose.ts'
import { buildTrainingGraph } from '../src/autodiff/training.ts'
import { attr, type Graph } from '../src/graph/types.ts'
import { type Partition, PartitionError, partitionGraph } from '../src/partition/index.ts'
import { runReference } from '../src/reference/index.ts'
import { int64, type Tensor } from '../src/tensor.ts'
import { gpt2, resnet } from '../src/zoo/index.ts'
import { floatTensor, randomTensor, rng } from './gradcheck.ts'
import { node } from './ops-helpers.ts'

/** A toy GPT: tied embedding, two residual blocks, one reading an activation two stages back. */
function toyModel(): { graph: Graph; feeds: Record<string, Tensor> } {
  const next = rng(42)
  const p = (shape: number[]) => randomTensor('float64', shape, next)
  const scoped = (scope: string, n: ReturnType<typeof node>) => ({ ...n, scope })
  const block = (i: number, input: string, out: string) => [
    scoped(`h.${i}`, node('LayerNormalization', [input, `g${i}`, `b${i}`], [`n${i}`])),
    scoped(`h.${i}`, node('MatMul', [`n${i}`, `w${i}`], [`m${i}`])),
    scoped(`h.${i}`, node('Tanh', [`m${i}`], [`t${i}`])),
    scoped(`h.${i}`, node('Add', [input, `t${i}`], [out])),
  ]
  const params: Record<string, Tensor> = { wte: p([6, 4]) }
  for (const i of [0, 1])
    Object.assign(params, { [`g${i}`]: p([4]), [`b${i}`]: p([4]), [`w${i}`]: p([4, 4]) })
  const graph: Graph = {
    name: 'toy',
    nodes: [
      scoped('wte', node('Gather', ['wte', 'ids'], ['h0'])),
      ...block(0, 'h0', 'h1'),
      ...block(1, 'h1', 'h2'),
      scoped('head', node('Mul', ['h2', 'h0'], ['mixed'])),
      scoped('head', node('Transpose', ['wte'], ['wteT'], { perm: attr.ints([1, 0]) })),
      scoped('head', node('MatMul', ['mixed', 'wteT'], ['logits'])),
      node('Reshape', ['logits', 'flat_shape'], ['flat']),
      node('SoftmaxCrossEntropyLoss', ['flat', 'labels'], ['loss']),
    ],
    inputs: [
      { name: 'ids', dtype: 'int64', shape: [2, 3] },
      { name: 'labels', dtype: 'int64', shape: [6] },
    ],
    outputs: [{ name: 'loss', dtype: 'float64', shape: [] }],
    initializers: new Map([...Object.entries(params), ['flat_shape', int64([2], [6, 6])]]),
    parameters: new Set(Object.keys(params)),
    valueInfo: new Map(),
    opset: 18,
  }
  return { graph, feeds: { ids: int64([2, 3], [1, 5, 1, 0, 2, 5]), labels: int64([6], [5, 1, 0, 0, 3, 2]) } }
}

/** Runs a partition stage by stage; returns the loss and the summed gradients of every parameter. */
function runStages(graph: Graph, partition: Partition, feeds: Record<string, Tensor>) {
  // parameters are initializers of the forward stages and inputs of the backward ones
  const values = new Map<string, Tensor>([...graph.initializers, ...Object.entries(feeds)])
  for (const stage of partition.stages) {
    const inputs = Object.fromEntries(stage.forward.inputs.map((v) => [v.name, values.get(v.name) as Tensor]))
    for (const [name, t] of Object.entries(runReference(stage.forward, inputs))) values.set(name, t)
  }
  const grads = new Map<string, Tensor>()
  const accumulate = (name: string, t: Tensor) => {
    const old = grads.get(name)
    if (!old) return grads.set(name, t)
    // in the tensor's own dtype, as a runtime would add two received gradients
    const sum = (old.data as Float64Array).map((v, i) => v + (t.data as Float64Array)[i])
    grads.set(name, { ...t, data: sum })
  }
  const loss = values.get(partition.loss) as Tensor
  accumulate(partition.loss, floatTensor(loss.dtype, [], [1]))
  for (const stage of [...partition.stages].reverse()) {
    const inputs: Record<string, Tensor> = {}
    for (const name of stage.backwardInputs) inputs[name] = values.get(name) as Tensor
    for (const v of stage.gradientsIn) inputs[`grad.${v}`] = grads.get(v) as Tensor
    for (const [name, t] of Object.entries(runReference(stage.backward, inputs))) accumulate(name.slice(5), t)
  }
  return { loss, grads }
}

function assertClose(actual: Tensor, expected: Tensor, what: string) {
  assert.deepEqual(actual.shape, expected.shape, what)
  const a = actual.data as Float64Array
  const e = expected.data as Float64Array
  const scale = Math.max(1e-30, ...Array.from(e, Math.abs))
  const worst = Math.max(0, ...Array.from(a, (v, i) => Math.abs(v - e[i])))
  assert.ok(worst <= 1e-12 * scale, `${what}: differs by ${worst} (scale ${scale})`)
}

for (const recompute of [false, true]) {
  test(`composed stages reproduce the whole graph's loss and gradients (recompute: ${recompute})`, () => {
    const { graph, feeds } = toyModel()
    const whole = runReference(buildTrainingGraph(graph, 'loss').graph, feeds)
    const partition = partitionGraph(graph, {
      loss: 'loss',
      stages: [{ scopes: ['wte'] }, { scopes: ['h.0'] }, { scopes: ['h.1', 'head'] }],
      recompute,
    })
    assert.deepEqual(partition.parameterStages.get('wte'), [0, 2], 'the tied embedding lives in two stages')
    assert.ok(partition.edges.some((e) => e.value === 'h0' && e.from === 0 && e.to === 2 && e.gradient))
    const { loss, grads } = runStages(graph, partition, feeds)
    assertClose(loss, whole.loss, 'loss')
    for (const p of graph.parameters) assertClose(grads.get(p) as Tensor, whole[`grad.${p}`], `grad.${p}`)
    const savedCount = partition.stages.reduce((n, s) => n + s.saved.length, 0)
    if (recompute) assert.equal(savedCount, 0)
    else assert.ok(savedCount > 0, 'without recompute, stages keep activations for their backward')
  })
}

test('stages given as node sets; the loss joins the stage of its producers', () => {
  const { graph, feeds } = toyModel()
  const names = graph.nodes.map((n) => n.name)
  const partition = partitionGraph(graph, {
    loss: 'loss',
    stages: [{ nodes: names.slice(0, 3) }, { nodes: names.slice(3, 12) }],
  })
  // the stages hold the graph as differentiated: its loss written as primitives
  assert.equal(partition.stages[1].nodes.length, decomposeTrainingOps(graph).nodes.length - 3)
  const whole = runReference(buildTrainingGraph(graph, 'loss').graph, feeds)
  const { grads } = runStages(graph, partition, feeds)
  for (const p of graph.parameters) assertClose(grads.get(p) as Tensor, whole[`grad.${p}`], `grad.${p}`)
})

test('a value flowing back to an earlier stage is a PartitionError', () => {
  const { graph } = toyModel()
  assert.throws(
    () =>
      partitionGraph(graph, {
        loss: 'loss',
        stages: [{ scopes: ['h.0'] }, { scopes: ['wte', 'h.1', 'head'] }],
      }),
    (err: Error) => err.name === 'PartitionError' && err instanceof PartitionError,
  )
})

test('gpt2-tiny cut by scopes into three stages (tied wte in the first and last) matches the whole graph', () => {
  const { graph } = gpt2({
    config: { vocab: 11, ctx: 6, d: 8, layers: 2, heads: 2 },
    seq: 4,
    batch: 2,
    seed: 1,
  })
  const next = rng(5)
  const ids = () =>
    int64(
      [2, 4],
      Array.from({ length: 8 }, () => Math.floor(next() * 11)),
    )
  const feeds = { input_ids: ids(), targets: ids() }
  const whole = runReference(buildTrainingGraph(graph, 'loss').graph, feeds)
  for (const recompute of [false, true]) {
    const partition = partitionGraph(graph, {
      loss: 'loss',
      stages: [{ scopes: ['wte', 'wpe', 'h.0'] }, { scopes: ['h.1'] }, { scopes: ['ln_f', 'lm_head'] }],
      recompute,
    })
    assert.deepEqual(partition.parameterStages.get('wte.weight'), [0, 2])
    // the targets' reshape (no scope, reads only a graph input) sits with the loss, not in stage 0
    assert.ok(
      partition.edges.every((e) => e.gradient),
      JSON.stringify(partition.edges.map((e) => e.value)),
    )
    const { loss, grads } = runStages(graph, partition, feeds)
    assert.deepEqual(loss.data, whole.loss.data)
    for (const p of graph.parameters) {
      const a = grads.get(p)?.data as Float32Array
      const e = whole[`grad.${p}`].data as Float32Array
      const scale = Math.max(...Array.from(e, Math.abs))
      a.forEach((v, i) => {
        assert.ok(Math.abs(v - e[i]) <= 1e-6 * scale, `grad.${p}[${i}]: ${v} vs ${e[i]}`)
      })
    }
  }
})

test('resnet-tiny (training BatchNorm, decomposed) cut into two stages matches the whole graph', () => {
  const { graph } = resnet({ depth: 18, width: 1 / 16, classes: 3, imageSize: 32, batch: 2, seed: 2 })
  const feeds = { x: randomTensor('float32', [2, 3, 32, 32], rng(8), 0, 1), targets: int64([2], [1, 2]) }
  const whole = runReference(buildTrainingGraph(graph, 'loss').graph, feeds)
  const partition = partitionGraph(graph, {
    loss: 'loss',
    stages: [{ scopes: ['conv1', 'bn1', 'layer1', 'layer2'] }, { scopes: ['layer3', 'layer4', 'fc'] }],
    recompute: true,
  })
  assert.ok(partition.stages.every((s) => !s.forward.nodes.some((n) => n.opType === 'BatchNormalization')))
  const { loss, grads } = runStages(graph, partition, feeds)
  assert.deepEqual(loss.data, whole.loss.data)
  for (const p of graph.parameters) assert.deepEqual(grads.get(p)?.data, whole[`grad.${p}`].data, `grad.${p}`)
})
