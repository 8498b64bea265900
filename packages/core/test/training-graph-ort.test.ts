/**
 * Regressions for graphs onnxruntime refused: value types that contradicted the ops (a builder Where
 * declared bool, the type of its condition), and values defined twice when forward and backward
 * nodes share one graph (constants the backward folded from forward values, kept under the forward
 * names). Each graph is exported with its value types and loaded and run by onnxruntime-node.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as ort from 'onnxruntime-node'
import {
  buildBackward,
  buildTrainingGraph,
  decomposeTrainingOps,
  exportOnnx,
  type Graph,
  gpt2,
  importOnnx,
  inferShapes,
  ModelBuilder,
  mnistCnn,
  partitionGraph,
  resnet,
  type Tensor,
  validateGraph,
} from '../src/index.ts'
import { loadFixtures } from './fixtures.ts'

function ortTensor(t: Tensor): ort.Tensor {
  return new ort.Tensor(t.dtype, t.data as Float32Array, t.shape)
}

async function runOrt(graph: Graph, feeds: Record<string, Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(exportOnnx(graph))
  try {
    return await session.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, ortTensor(v)])))
  } finally {
    await session.release()
  }
}

test('the builder types a Where over float data as float, and comparisons as bool', () => {
  const m = new ModelBuilder({ opset: 17 })
  const x = m.input('x', [2, 3])
  const cond = m.op('Greater', [x, m.scalar(0)], [2, 3])
  const y = m.op('Where', [cond, x, m.scalar(-1)], [2, 3])
  const shape = m.op('Shape', [y], [2])
  assert.deepEqual([cond.dtype, y.dtype, shape.dtype], ['bool', 'float32', 'int64'])
  assert.equal(m.graph.valueInfo.get(y.name)?.dtype, 'float32')
})

test('every value type the zoo models declare is the one shape inference derives', () => {
  for (const { graph } of [
    gpt2({ config: 'tiny', seq: 8 }),
    mnistCnn(),
    resnet({ depth: 18, width: 0.125, imageSize: 32 }),
  ]) {
    const inferred = inferShapes(graph)
    assert.ok(graph.valueInfo.size > 0)
    for (const v of graph.valueInfo.values())
      assert.equal(v.dtype, inferred.get(v.name)?.dtype, `${graph.name}: '${v.name}'`)
  }
})

test('gpt2 (causal Where) loads and runs in onnxruntime with value types: forward, training, stages', async () => {
  const { graph } = gpt2({ config: 'tiny', seq: 8 })
  assert.equal(graph.valueInfo.get('h.0.attn/Where')?.dtype, 'float32')
  const bindings = { batch: 2 }
  const ids = { dtype: 'int64', shape: [2, 8], data: BigInt64Array.from({ length: 16 }, (_, i) => BigInt(i)) }
  const targets = { ...ids, data: ids.data.map((v) => (v + 1n) % 8n) }
  const feeds = { input_ids: ids, targets } as Record<string, Tensor>
  const train = buildTrainingGraph(graph, 'loss', { bindings }).graph
  assert.ok(train.valueInfo.size > 0)
  const forward = await runOrt(graph, feeds)
  const training = await runOrt(train, feeds)
  assert.ok(Number.isFinite(forward.loss.data[0] as number))
  assert.ok(Math.abs((training.loss.data[0] as number) - (forward.loss.data[0] as number)) < 1e-5)
  const { stages } = partitionGraph(graph, {
    loss: 'loss',
    stages: [{ scopes: ['wte', 'wpe', 'h.0'] }, { scopes: ['h.1', 'ln_f', 'lm_head'] }],
    bindings,
  })
  for (const s of stages) {
    for (const g of [s.forward, s.backward])
      await (await ort.InferenceSession.create(exportOnnx(g))).release()
  }
})

test('an exporter never writes a leftover value type for what is an input or initializer here', async () => {
  const m = new ModelBuilder({ opset: 17 })
  const x = m.input('x', [2])
  const bias = m.constant({ dtype: 'float32', shape: [2], data: Float32Array.of(1, 1) })
  const sum = m.op('Add', [x, bias], [2])
  m.output(m.op('Relu', [sum], [2]))
  const g = m.build()
  // stale: the initializer was a node output in the graph this one was cut from
  g.valueInfo.set(bias.name, { name: bias.name, dtype: 'bool', shape: [2] })
  g.valueInfo.set('gone', { name: 'gone', dtype: 'int64', shape: [] })
  const written = importOnnx(exportOnnx(g), { loss: false }).valueInfo
  assert.deepEqual([...written.keys()], [sum.name])
  assert.equal(written.get(sum.name)?.dtype, 'float32')
  const out = await runOrt(g, { x: { dtype: 'float32', shape: [2], data: Float32Array.of(-2, 2) } })
  assert.deepEqual(Array.from(out[g.outputs[0].name].data as Float32Array), [0, 3])
})

const torchScript = loadFixtures().filter((f) => f.exporter === 'ts')

test('TorchScript imports: training, fused and recomputing graphs define every value once', async () => {
  assert.ok(torchScript.length >= 4)
  for (const f of torchScript) {
    const g = importOnnx(f.onnx)
    const train = buildTrainingGraph(g, 'loss').graph
    validateGraph(train) // DuplicateNameError on a value defined twice
    const out = await runOrt(train, Object.fromEntries(f.batch))
    const loss = out.loss.data[0] as number
    assert.ok(Math.abs(loss - f.loss) <= 1e-4 * Math.abs(f.loss), `${f.tag}: loss ${loss} vs ${f.loss}`)
    // forward and backward in one graph with the seed as an input (a pipeline's loss stage)
    const prepared = decomposeTrainingOps(g)
    const bw = buildBackward(prepared, 'loss')
    const produced = new Set(prepared.nodes.flatMap((n) => n.outputs))
    for (const name of bw.graph.initializers.keys())
      assert.ok(!produced.has(name), `${f.tag}: the backward redefines '${name}'`)
    validateGraph({
      ...prepared,
      nodes: [...prepared.nodes, ...bw.graph.nodes],
      inputs: [...prepared.inputs, ...bw.graph.inputs.filter((i) => i.name.startsWith('grad.'))],
      outputs: bw.graph.outputs,
      initializers: new Map([...prepared.initializers, ...bw.graph.initializers]),
    })
    const whole = [{ nodes: prepared.nodes.map((n) => n.name) }]
    const { stages } = partitionGraph(prepared, { loss: 'loss', stages: whole, recompute: true })
    validateGraph(stages[0].backward)
  }
})
