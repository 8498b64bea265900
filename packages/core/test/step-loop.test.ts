/**
 * The step loop's graph (runtime's step-loop.test.ts runs it on onnxruntime against single steps):
 * its flat layout puts the decaying parameters first, every outer name is reserved, and the loop
 * body reads each parameter out of the carried flat vector.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildStepLoop, FLAT_ROW, type Graph, mlp, numel } from '../src/index.ts'

const decays = (n: string) => !n.endsWith('bias')
const whole = (n: number) => Math.ceil(n / FLAT_ROW) * FLAT_ROW

test('the flat layout holds every parameter once, the decaying ones first, small ones packed', () => {
  // all small; a whole-row weight; a large one that does not fill whole rows (16,900 elements)
  for (const sizes of [
    [64, 32, 3],
    [130, 130, 3],
  ]) {
    const { graph } = mlp({ sizes, seed: 1 })
    const { layout, size, decaying } = buildStepLoop(graph, 'loss', { bindings: { batch: 4 }, decays })
    assert.deepEqual(new Set(layout.map((s) => s.name)), graph.parameters)
    const decayed = layout.filter((s) => decays(s.name))
    assert.deepEqual(layout.slice(0, decayed.length), decayed)
    assert.equal(size % FLAT_ROW, 0)
    assert.equal(decaying % FLAT_ROW, 0)
    let end = 0
    for (const s of layout) {
      assert.equal(s.length, numel(s.shape))
      // packed: a small parameter that does not fill whole rows, placed right after the one before
      assert.equal(s.packed, s.length % FLAT_ROW !== 0 && s.length <= 16 * FLAT_ROW, s.name)
      if (!s.packed) assert.equal(s.offset % FLAT_ROW, 0, `${s.name} starts a row`)
      if (decays(s.name)) assert.ok(s.offset + s.length <= decaying, `${s.name} is in the decaying rows`)
      else assert.ok(s.offset >= decaying, `${s.name} is after the decaying rows`)
      assert.ok(s.offset >= end, `${s.name} overlaps the parameter before it`)
      end = s.offset + (s.packed ? s.length : whole(s.length))
    }
    // no row wasted: each range is its parameters rounded up to whole rows
    const extent = (slots: typeof layout) =>
      whole(slots.reduce((a, s) => a + (s.packed ? s.length : whole(s.length)), 0))
    assert.equal(decaying, extent(decayed))
    assert.equal(size, decaying + extent(layout.slice(decayed.length)))
  }
  const { graph } = mlp({ sizes: [6, 5, 3], seed: 1 })
  const loop = buildStepLoop(graph, 'loss', { bindings: { batch: 4 }, decays })
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
  const { graph } = mlp({ sizes: [64, 32, 3], seed: 1 })
  const loop = buildStepLoop(graph, 'loss', { bindings: { batch: 4 }, decays })
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
  const producer = (value: string) => body.value.nodes.find((n) => n.outputs.includes(value))
  const targetRows = (reshape: (typeof body.value.nodes)[number] | undefined) => {
    assert.equal(reshape?.opType, 'Reshape')
    const target = body.value.initializers.get(reshape.inputs[1])
    assert.ok(target)
    assert.equal(Number((target.data as BigInt64Array)[1]), FLAT_ROW)
    return Number((target.data as BigInt64Array)[0])
  }
  // one Concat joins rows (decay on part of the rows is a factor, not a Concat); the others join a
  // packed run's gradients, no longer than the rows the packed parameters share
  const concats = body.value.nodes.filter((n) => n.opType === 'Concat')
  const byRows = concats.filter((c) => c.inputs.every((i) => producer(i)?.opType === 'Reshape'))
  assert.equal(byRows.length, 1)
  assert.equal(
    byRows[0].inputs.reduce((a, i) => a + targetRows(producer(i)), 0),
    rows,
  )
  const packed = loop.layout.filter((s) => s.packed)
  assert.ok(packed.length > 0 && packed.length < loop.layout.length, 'both kinds of parameter')
  const packedRows =
    rows - loop.layout.filter((s) => !s.packed).reduce((a, s) => a + whole(s.length), 0) / FLAT_ROW
  for (const c of concats.filter((n) => n !== byRows[0])) {
    const reshape = body.value.nodes.find((n) => n.opType === 'Reshape' && n.inputs[0] === c.outputs[0])
    assert.ok(targetRows(reshape) <= packedRows)
  }
})
