/**
 * The step loop's graph (runtime's step-loop.test.ts runs it on onnxruntime against single steps):
 * its flat layout puts the decaying parameters first, every outer name is reserved, and the loop
 * body reads each parameter out of the carried flat vector.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildStepLoop, FLAT_ROW, mlp, numel } from '../src/index.ts'

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
