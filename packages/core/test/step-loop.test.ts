/**
 * The step loop's graph (runtime's step-loop.test.ts runs it on onnxruntime against single steps):
 * its flat layout puts the decaying parameters first, every outer name is reserved, and the loop
 * body reads each parameter out of the carried flat vector.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildStepLoop, FLAT_ROW, type Graph, mlp, numel } from '../src/index.ts'

test('the flat layout holds every parameter once, the decaying ones first', () => {
  const { graph } = mlp({ sizes: [6, 5, 3], seed: 1 })
  const decays = (n: string) => !n.endsWith('bias')
  const loop = buildStepLoop(graph, 'loss', { bindings: { batch: 4 }, decays })
  assert.deepEqual(new Set(loop.layout.map((s) => s.name)), graph.parameters)
  // each parameter starts a row of FLAT_ROW elements; the rest of its last row is padding
  const whole = (n: number) => Math.ceil(n / FLAT_ROW) * FLAT_ROW
  let offset = 0
  for (const s of loop.layout) {
    assert.equal(s.offset, offset)
    assert.equal(s.length, numel(s.shape))
    offset += whole(s.length)
  }
  assert.equal(loop.size, offset)
  const decaying = loop.layout.filter((s) => decays(s.name))
  assert.deepEqual(loop.layout.slice(0, decaying.length), decaying)
  assert.equal(
    loop.decaying,
    decaying.reduce((a, s) => a + whole(s.length), 0),
  )
  // the batch is stacked along a leading 'steps' axis; the loop carries the flat vectors
  assert.deepEqual(loop.graph.inputs.find((i) => i.name === loop.feeds.batch.get('x'))?.shape, [
    'steps',
    4,
    6,
  ])
  const node = loop.graph.nodes.find((n) => n.opType === 'Loop')
  assert.ok(node)
  const body = node.attributes.body
  assert.equal(body.kind, 'graph')
  if (body.kind !== 'graph') return
  for (const s of loop.layout)
    assert.ok(
      body.value.nodes.some((n) => n.outputs.includes(s.name)),
      s.name,
    )
  assert.equal(body.value.initializers.size > 0, true)
  for (const name of graph.parameters)
    assert.ok(!body.value.initializers.has(name), `${name} is not baked in`)
})

test('a name that starts with the reserved prefix is refused', () => {
  const { graph } = mlp({ sizes: [4, 2], seed: 1 })
  const x = graph.inputs[0]
  const renamed = {
    ...graph,
    inputs: [{ ...x, name: 'steploop.x' }, ...graph.inputs.slice(1)],
    nodes: graph.nodes.map((n) => ({ ...n, inputs: n.inputs.map((i) => (i === x.name ? 'steploop.x' : i)) })),
  }
  assert.throws(
    () => buildStepLoop(renamed, 'loss', { bindings: { batch: 2 } }),
    /'steploop.x' starts with 'steploop.'/,
  )
})

test('the body splits and joins the flat vectors by rows, never along the flat axis', () => {
  // onnxruntime's CUDA Split/Concat of unequal pieces index the whole split axis on the host per call
  const { graph } = mlp({ sizes: [6, 5, 3], seed: 1 })
  const loop = buildStepLoop(graph, 'loss', { bindings: { batch: 4 }, decays: (n) => !n.endsWith('bias') })
  const attr = loop.graph.nodes.find((n) => n.opType === 'Loop')?.attributes.body
  if (attr?.kind !== 'graph') return assert.fail('no Loop body')
  const body: { value: Graph } = attr
  const rows = loop.size / FLAT_ROW
  const split = body.value.nodes.filter((n) => n.opType === 'Split')
  assert.equal(split.length, 1)
  const sizes = body.value.initializers.get(split[0].inputs[1])
  assert.ok(sizes)
  assert.equal(
    Array.from(sizes.data as BigInt64Array, Number).reduce((a, b) => a + b, 0),
    rows,
  )
  const concat = body.value.nodes.filter((n) => n.opType === 'Concat')
  assert.equal(concat.length, 1, 'the gradients only: decay on part of the rows is a factor')
  for (const input of concat[0].inputs) {
    const reshape = body.value.nodes.find((n) => n.outputs.includes(input))
    assert.equal(reshape?.opType, 'Reshape')
    const target = body.value.initializers.get(reshape.inputs[1])
    assert.ok(target)
    assert.equal(Number((target.data as BigInt64Array)[1]), FLAT_ROW)
  }
})
