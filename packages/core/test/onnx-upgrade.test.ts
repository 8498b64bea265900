/**
 * Opset 7–12 graphs upgraded to 13 on import: each case is a small graph written at an old opset,
 * imported (upgraded), run by the reference interpreter, and compared with the same graph written
 * by hand at opset 13 (reference interpreter) and with onnxruntime running the old file as it is.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as ort from 'onnxruntime-node'
import { attr, type Graph, type Node } from '../src/graph/types.ts'
import {
  buildTrainingGraph,
  exportOnnx,
  importOnnx,
  importOnnxGraph,
  UnsupportedOnnxFeatureError,
} from '../src/index.ts'
import { inferShapes } from '../src/ops/index.ts'
import { runReference } from '../src/reference/index.ts'
import { type DType, float32, int64, type Tensor } from '../src/tensor.ts'
import { assertClose, node, values } from './ops-helpers.ts'
import { randn } from './reference-ort.ts'

interface UpgradeCase {
  name: string
  opset: number
  feeds: Record<string, Tensor>
  /** the graph as an old exporter writes it */
  old: Node[]
  /** the same graph as written at opset 13, with its constants */
  modern: Node[]
  modernConstants?: Record<string, Tensor>
  /** output names and their dtype (default float32) */
  outputs: Record<string, DType>
  /** op types the upgraded graph must have, in order (default: the modern graph's) */
  ops?: string[]
  /** why onnxruntime is not compared (it departs from the ONNX definition at every opset) */
  notOrt?: string
}

const f = (name: string, ...rest: Parameters<typeof node> extends [string, ...infer R] ? R : never) =>
  node(name, ...rest)
const constant = (out: string, value: Tensor): Node =>
  node('Constant', [], [out], { value: attr.tensor(value) })

function graphAt(
  opset: number,
  c: UpgradeCase,
  nodes: Node[],
  constants: Record<string, Tensor> = {},
): Graph {
  return {
    name: c.name,
    nodes: nodes.map((n) => ({
      ...n,
      inputs: [...n.inputs],
      outputs: [...n.outputs],
      attributes: { ...n.attributes },
    })),
    inputs: Object.entries(c.feeds).map(([name, t]) => ({ name, dtype: t.dtype, shape: [...t.shape] })),
    outputs: Object.entries(c.outputs).map(([name, dtype]) => ({ name, dtype })),
    initializers: new Map(Object.entries(constants)),
    parameters: new Set(),
    valueInfo: new Map(),
    opset,
  }
}

async function runOrt(bytes: Uint8Array, feeds: Record<string, Tensor>, outputs: string[]) {
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 })
  try {
    const input = Object.fromEntries(
      Object.entries(feeds).map(([n, t]) => [
        n,
        new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, [...t.shape]),
      ]),
    )
    const out = await session.run(input)
    return outputs.map((o) => ({
      dims: [...out[o].dims],
      data: Array.from(out[o].data as ArrayLike<number | bigint>, Number),
    }))
  } finally {
    await session.release()
  }
}

async function check(c: UpgradeCase): Promise<void> {
  const oldFile = exportOnnx(graphAt(c.opset, c, c.old), { valueInfo: false })
  const upgraded = importOnnxGraph(oldFile)
  assert.equal(upgraded.opset, 13)
  const modern = graphAt(13, c, c.modern, c.modernConstants)
  assert.deepEqual(
    upgraded.nodes.map((n) => n.opType),
    c.ops ?? modern.nodes.map((n) => n.opType),
    'op types after the upgrade',
  )
  // shape inference of opset 13 accepts the upgraded graph, and agrees with what runs
  const types = inferShapes(upgraded)
  const outputs = Object.keys(c.outputs)
  const ours = runReference(upgraded, c.feeds)
  const want = runReference(modern, c.feeds)
  const theirs = c.notOrt === undefined ? await runOrt(oldFile, c.feeds, outputs) : undefined
  outputs.forEach((o, i) => {
    assert.deepEqual(types.get(o)?.shape, [...ours[o].shape], `${o}: inferred shape`)
    assert.deepEqual([...ours[o].shape], [...want[o].shape], `${o}: shape against opset 13`)
    assertClose(ours[o], values(want[o]), 1e-6)
    if (theirs === undefined) return
    assert.deepEqual([...ours[o].shape], theirs[i].dims, `${o}: shape against onnxruntime`)
    assertClose(ours[o], theirs[i].data, 1e-5)
  })
}

const x34 = randn([3, 4], 1)
const x2342 = randn([2, 3, 4, 2], 2)

const CASES: UpgradeCase[] = [
  {
    name: 'Slice with starts, ends and axes as attributes (opset 9)',
    opset: 9,
    feeds: { x: x34 },
    old: [
      f('Slice', ['x'], ['y'], {
        starts: attr.ints([1, 0]),
        ends: attr.ints([3, -1]),
        axes: attr.ints([0, 1]),
      }),
    ],
    modern: [f('Slice', ['x', 's', 'e', 'a'], ['y'])],
    modernConstants: { s: int64([2], [1, 0]), e: int64([2], [3, -1]), a: int64([2], [0, 1]) },
    outputs: { y: 'float32' },
  },
  {
    name: 'Pad with pads and value as attributes (opset 10), constant and reflect',
    opset: 10,
    feeds: { x: x34 },
    old: [
      f('Pad', ['x'], ['p'], { pads: attr.ints([1, 0, 0, 2]), value: attr.float(1.5) }),
      f('Pad', ['p'], ['y'], { pads: attr.ints([0, 1, 0, 1]), mode: attr.string('reflect') }),
    ],
    modern: [
      f('Pad', ['x', 'pads1', 'v'], ['p']),
      f('Pad', ['p', 'pads2'], ['y'], { mode: attr.string('reflect') }),
    ],
    modernConstants: {
      pads1: int64([4], [1, 0, 0, 2]),
      v: float32([], [1.5]),
      pads2: int64([4], [0, 1, 0, 1]),
    },
    outputs: { y: 'float32' },
  },
  {
    name: 'Split with split as an attribute (opset 11)',
    opset: 11,
    feeds: { x: x34 },
    old: [f('Split', ['x'], ['a', 'b'], { axis: attr.int(1), split: attr.ints([1, 3]) })],
    modern: [f('Split', ['x', 's'], ['a', 'b'], { axis: attr.int(1) })],
    modernConstants: { s: int64([2], [1, 3]) },
    outputs: { a: 'float32', b: 'float32' },
  },
  {
    name: 'Squeeze, Unsqueeze and ReduceSum with axes as attributes (opset 11); ReduceMean keeps its',
    opset: 11,
    feeds: { x: randn([1, 3, 1, 2], 3) },
    old: [
      f('Squeeze', ['x'], ['s'], { axes: attr.ints([0, 2]) }),
      f('Unsqueeze', ['s'], ['u'], { axes: attr.ints([-1]) }),
      f('ReduceSum', ['u'], ['r'], { axes: attr.ints([1]), keepdims: attr.int(0) }),
      f('ReduceMean', ['u'], ['m'], { axes: attr.ints([0]) }),
      f('ReduceSum', ['u'], ['all']),
    ],
    modern: [
      f('Squeeze', ['x', 'sa'], ['s']),
      f('Unsqueeze', ['s', 'ua'], ['u']),
      f('ReduceSum', ['u', 'ra'], ['r'], { keepdims: attr.int(0) }),
      f('ReduceMean', ['u'], ['m'], { axes: attr.ints([0]) }),
      f('ReduceSum', ['u'], ['all']),
    ],
    modernConstants: { sa: int64([2], [0, 2]), ua: int64([1], [-1]), ra: int64([1], [1]) },
    outputs: { r: 'float32', m: 'float32', all: 'float32' },
  },
  {
    name: 'Clip with min and max as attributes (opset 9), and with max alone',
    opset: 9,
    feeds: { x: x34 },
    old: [
      f('Clip', ['x'], ['c'], { min: attr.float(-0.5), max: attr.float(0.75) }),
      f('Clip', ['x'], ['d'], { max: attr.float(0.25) }),
      f('Add', ['c', 'd'], ['y']),
    ],
    modern: [
      f('Clip', ['x', 'lo', 'hi'], ['c']),
      f('Clip', ['x', '', 'hi2'], ['d']),
      f('Add', ['c', 'd'], ['y']),
    ],
    modernConstants: { lo: float32([], [-0.5]), hi: float32([], [0.75]), hi2: float32([], [0.25]) },
    outputs: { y: 'float32' },
  },
  {
    name: 'TopK with k as an attribute (opset 9)',
    opset: 9,
    feeds: { x: x34 },
    old: [f('TopK', ['x'], ['v', 'i'], { k: attr.int(2) })],
    modern: [f('TopK', ['x', 'k'], ['v', 'i'])],
    modernConstants: { k: int64([1], [2]) },
    outputs: { v: 'float32', i: 'int64' },
  },
  {
    name: 'Dropout with ratio as an attribute (opset 10) is the identity in inference',
    opset: 10,
    feeds: { x: x34 },
    old: [f('Dropout', ['x'], ['y'], { ratio: attr.float(0.3) })],
    modern: [f('Dropout', ['x', 'r'], ['y'])],
    modernConstants: { r: float32([], [0.3]) },
    outputs: { y: 'float32' },
  },
  {
    name: 'Dropout (opset 7) whose mask, in the data type before 10, is read: cast from bool',
    opset: 7,
    feeds: { x: x34 },
    old: [f('Dropout', ['x'], ['y', 'mask'], { ratio: attr.float(0.2) }), f('Add', ['y', 'mask'], ['z'])],
    modern: [
      f('Dropout', ['x', 'r'], ['y', 'mb']),
      f('Cast', ['mb'], ['mask'], { to: attr.int(1) }),
      f('Add', ['y', 'mask'], ['z']),
    ],
    modernConstants: { r: float32([], [0.2]) },
    outputs: { z: 'float32' },
    // ONNX's reference keeps every element in inference (mask all ones), as onnxruntime's kernel
    // for opset 12 on does; its kernel for opsets 7-9 writes a mask of zeros, so its z is x, not x + 1
    notOrt: "onnxruntime's opset-7 Dropout writes an all-zero mask in inference",
  },
  {
    name: 'Scatter (opset 9) is ScatterElements',
    opset: 9,
    feeds: { x: x34, u: randn([1, 4], 4) },
    old: [
      constant('idx', int64([1, 4], [2, 0, 1, 2])),
      f('Scatter', ['x', 'idx', 'u'], ['y'], { axis: attr.int(0) }),
    ],
    modern: [
      constant('idx', int64([1, 4], [2, 0, 1, 2])),
      f('ScatterElements', ['x', 'idx', 'u'], ['y'], { axis: attr.int(0) }),
    ],
    outputs: { y: 'float32' },
  },
  {
    name: 'Softmax and LogSoftmax before 13 flatten at axis: rank 3 at axis 1, default axis on rank 4, last axis kept',
    opset: 11,
    feeds: { x: randn([2, 3, 4], 5), z: x2342, w: x34 },
    old: [
      f('Softmax', ['x'], ['a'], { axis: attr.int(1) }),
      f('LogSoftmax', ['z'], ['b']),
      f('Softmax', ['w'], ['c'], { axis: attr.int(1) }),
      f('Softmax', ['x'], ['d'], { axis: attr.int(-1) }),
    ],
    modern: [
      f('Flatten', ['x'], ['xf'], { axis: attr.int(1) }),
      f('Softmax', ['xf'], ['af'], { axis: attr.int(1) }),
      f('Reshape', ['af', 'xs'], ['a']),
      f('Flatten', ['z'], ['zf'], { axis: attr.int(1) }),
      f('LogSoftmax', ['zf'], ['bf'], { axis: attr.int(1) }),
      f('Reshape', ['bf', 'zs'], ['b']),
      f('Softmax', ['w'], ['c'], { axis: attr.int(1) }),
      f('Softmax', ['x'], ['d'], { axis: attr.int(-1) }),
    ],
    modernConstants: { xs: int64([3], [2, 3, 4]), zs: int64([4], [2, 3, 4, 2]) },
    outputs: { a: 'float32', b: 'float32', c: 'float32', d: 'float32' },
    ops: [
      'Shape',
      'Flatten',
      'Softmax',
      'Reshape',
      'Shape',
      'Flatten',
      'LogSoftmax',
      'Reshape',
      'Softmax',
      'Softmax',
    ],
  },
  {
    name: 'Upsample with scales as an input (opset 9) and as an attribute (opset 7, linear)',
    opset: 9,
    feeds: { x: randn([1, 2, 2, 3], 6) },
    old: [constant('sc', float32([4], [1, 1, 2, 3])), f('Upsample', ['x', 'sc'], ['y'])],
    modern: [
      constant('sc', float32([4], [1, 1, 2, 3])),
      f('Resize', ['x', '', 'sc'], ['y'], {
        coordinate_transformation_mode: attr.string('asymmetric'),
        nearest_mode: attr.string('floor'),
      }),
    ],
    outputs: { y: 'float32' },
  },
  {
    name: 'Upsample with scales as an attribute, linear (opset 7)',
    opset: 7,
    feeds: { x: randn([1, 2, 2, 3], 7) },
    old: [f('Upsample', ['x'], ['y'], { scales: attr.floats([1, 1, 2, 2]), mode: attr.string('linear') })],
    modern: [
      f('Resize', ['x', '', 's'], ['y'], {
        mode: attr.string('linear'),
        coordinate_transformation_mode: attr.string('asymmetric'),
      }),
    ],
    modernConstants: { s: float32([4], [1, 1, 2, 2]) },
    outputs: { y: 'float32' },
  },
  {
    name: 'Resize-10: nearest shrinking rounds up, linear enlarging samples asymmetrically',
    opset: 10,
    feeds: { x: randn([1, 1, 4, 5], 8) },
    old: [
      constant('down', float32([4], [1, 1, 0.6, 0.6])),
      constant('up', float32([4], [1, 1, 1.5, 2])),
      f('Resize', ['x', 'down'], ['a']),
      f('Resize', ['x', 'up'], ['b'], { mode: attr.string('linear') }),
    ],
    modern: [
      constant('down', float32([4], [1, 1, 0.6, 0.6])),
      constant('up', float32([4], [1, 1, 1.5, 2])),
      f('Resize', ['x', '', 'down'], ['a'], {
        coordinate_transformation_mode: attr.string('asymmetric'),
        nearest_mode: attr.string('ceil'),
      }),
      f('Resize', ['x', '', 'up'], ['b'], {
        mode: attr.string('linear'),
        coordinate_transformation_mode: attr.string('asymmetric'),
      }),
    ],
    outputs: { a: 'float32', b: 'float32' },
  },
  {
    name: 'BatchNormalization with spatial=0 (opset 7): per-element statistics',
    opset: 7,
    feeds: { x: randn([2, 3, 2], 9) },
    old: [
      constant('g', randn([3, 2], 10)),
      constant('b', randn([3, 2], 11)),
      constant('m', randn([3, 2], 12)),
      constant('v', randn([3, 2], 13, 0.5, 2)),
      f('BatchNormalization', ['x', 'g', 'b', 'm', 'v'], ['y'], {
        spatial: attr.int(0),
        epsilon: attr.float(1e-3),
      }),
    ],
    modern: [
      constant('g', randn([3, 2], 10)),
      constant('b', randn([3, 2], 11)),
      constant('m', randn([3, 2], 12)),
      constant('v', randn([3, 2], 13, 0.5, 2)),
      f('Sub', ['x', 'm'], ['c']),
      f('Add', ['v', 'eps'], ['ve']),
      f('Sqrt', ['ve'], ['sd']),
      f('Div', ['c', 'sd'], ['n']),
      f('Mul', ['n', 'g'], ['s']),
      f('Add', ['s', 'b'], ['y']),
    ],
    modernConstants: { eps: float32([], [1e-3]) },
    outputs: { y: 'float32' },
  },
  {
    name: 'BatchNormalization with spatial=1 (opset 8) just loses the attribute',
    opset: 8,
    feeds: { x: randn([2, 3, 2], 14) },
    old: [
      constant('g', randn([3], 10)),
      constant('b', randn([3], 11)),
      constant('m', randn([3], 12)),
      constant('v', randn([3], 13, 0.5, 2)),
      f('BatchNormalization', ['x', 'g', 'b', 'm', 'v'], ['y'], { spatial: attr.int(1) }),
    ],
    modern: [
      constant('g', randn([3], 10)),
      constant('b', randn([3], 11)),
      constant('m', randn([3], 12)),
      constant('v', randn([3], 13, 0.5, 2)),
      f('BatchNormalization', ['x', 'g', 'b', 'm', 'v'], ['y']),
    ],
    outputs: { y: 'float32' },
  },
]

for (const c of CASES) test(`upgrade: ${c.name}`, () => check(c))

test('upgrade: opset 13 and later are kept as they are; older than 7 is refused by name', () => {
  const c: UpgradeCase = {
    name: 'keep',
    opset: 13,
    feeds: { x: x34 },
    old: [f('Softmax', ['x'], ['y'], { axis: attr.int(0) })],
    modern: [],
    outputs: { y: 'float32' },
  }
  for (const opset of [13, 17]) {
    const g = importOnnxGraph(exportOnnx(graphAt(opset, c, c.old)))
    assert.equal(g.opset, opset)
    assert.deepEqual(
      g.nodes.map((n) => n.opType),
      ['Softmax'],
    )
  }
  assert.throws(
    () => importOnnxGraph(exportOnnx(graphAt(6, c, c.old))),
    (err: Error) => {
      assert.ok(err instanceof UnsupportedOnnxFeatureError)
      assert.match(err.message, /opset 6 is older than 7/)
      return true
    },
  )
})

test('upgrade: a nearest Resize-10 that enlarges one axis and shrinks another is refused, naming the node', () => {
  const c: UpgradeCase = {
    name: 'mixed',
    opset: 10,
    feeds: { x: randn([1, 1, 4, 4], 1) },
    old: [constant('s', float32([4], [1, 1, 2, 0.5])), f('Resize', ['x', 's'], ['y'], {}, 'mixed_resize')],
    modern: [],
    outputs: { y: 'float32' },
  }
  assert.throws(
    () => importOnnxGraph(exportOnnx(graphAt(10, c, c.old))),
    /node 'mixed_resize'.*enlarges some axes/,
  )
})

test('upgrade: an opset-9 model trains as its opset-13 form does: same loss and weight gradient', () => {
  const c: UpgradeCase = {
    name: 'mlp9',
    opset: 9,
    feeds: { x: randn([2, 3, 4], 3) },
    old: [
      f('Slice', ['x'], ['s'], { starts: attr.ints([1]), ends: attr.ints([4]), axes: attr.ints([2]) }),
      f('MatMul', ['s', 'w'], ['h']),
      f('Clip', ['h'], ['r'], { min: attr.float(0), max: attr.float(0.5) }),
      f('ReduceSum', ['r'], ['y'], { axes: attr.ints([1]), keepdims: attr.int(0) }),
    ],
    modern: [
      f('Slice', ['x', 'st', 'en', 'ax'], ['s']),
      f('MatMul', ['s', 'w'], ['h']),
      f('Clip', ['h', 'lo', 'hi'], ['r']),
      f('ReduceSum', ['r', 'ax1'], ['y'], { keepdims: attr.int(0) }),
    ],
    outputs: { y: 'float32' },
  }
  const w = randn([3, 5], 4)
  const constants = {
    w,
    st: int64([1], [1]),
    en: int64([1], [4]),
    ax: int64([1], [2]),
    lo: float32([], [0]),
    hi: float32([], [0.5]),
    ax1: int64([1], [1]),
  }
  const gradients = (opset: number, nodes: Node[], initial: Record<string, Tensor>) => {
    const g = graphAt(opset, c, nodes, initial)
    g.outputs[0].shape = [2, 5]
    const imported = importOnnx(exportOnnx(g))
    assert.equal(imported.opset, 13)
    // the axes and bounds the upgrade added are inputs of ops, not weights
    assert.deepEqual([...imported.parameters], ['w'])
    const training = buildTrainingGraph(imported, 'loss')
    return runReference(training.graph, { ...c.feeds, targets: int64([2], [1, 4]) })
  }
  const old = gradients(9, c.old, { w })
  const modern = gradients(13, c.modern, constants)
  assertClose(old.loss, values(modern.loss), 1e-12)
  assertClose(old['grad.w'], values(modern['grad.w']), 1e-12)
  assert.ok(values(old['grad.w']).some((v) => v !== 0))
})

test('upgrade: Cast with its target as a type name (opset 1 files relabelled 7) gets the type code', () => {
  const c: UpgradeCase = {
    name: 'cast',
    opset: 7,
    feeds: { x: x34 },
    old: [f('Cast', ['x'], ['y'], { to: attr.string('DOUBLE') })],
    modern: [],
    outputs: { y: 'float64' },
  }
  const g = importOnnxGraph(exportOnnx(graphAt(7, c, c.old)))
  assert.deepEqual(g.nodes[0].attributes.to, attr.int(11))
  assert.equal(runReference(g, c.feeds).y.dtype, 'float64')
})
