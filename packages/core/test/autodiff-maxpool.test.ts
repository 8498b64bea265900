/**
 * The MaxPool gradient where finite differences say nothing: ties (all-equal windows, as ReLU's
 * zeros give) must send each output's gradient to the window's first maximum in row-major order,
 * as PyTorch does, once — and overlapping windows must add up. Checked against a direct loop, in
 * the reference interpreter and in onnxruntime-node. Also: the backward never asks for MaxPool's
 * Indices output, which onnxruntime's WebGPU provider does not implement.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTrainingGraph, gradName, mnistCnn, resnet, runReference } from '../src/index.ts'
import { type Attribute, attr, type Graph } from '../src/graph/types.ts'
import { float32, type Tensor } from '../src/tensor.ts'
import { CASES } from './grad-cases.ts'
import { lossGraph, randomTensor, rng } from './gradcheck.ts'
import { node } from './ops-helpers.ts'
import { runOrt } from './ort-run.ts'

interface Pool {
  kernel: number[]
  strides: number[]
  pads: number[]
  dilations?: number[]
  ceilMode?: boolean
}

const GEOMETRIES: Record<string, { shape: number[]; pool: Pool }> = {
  '2×2 stride 2 (apart)': {
    shape: [2, 3, 4, 6],
    pool: { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] },
  },
  '3×3 stride 2 pad 1 (overlapping)': {
    shape: [1, 2, 7, 7],
    pool: { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
  },
  '1-D kernel 3 dilation 2 stride 1': {
    shape: [1, 2, 9],
    pool: { kernel: [3], strides: [1], pads: [1, 1], dilations: [2] },
  },
  '1-D kernel 2 stride 3 ceil_mode': {
    shape: [2, 1, 8],
    pool: { kernel: [2], strides: [3], pads: [0, 0], ceilMode: true },
  },
  '3-D 2×2×2 stride 1': {
    shape: [1, 1, 3, 3, 3],
    pool: { kernel: [2, 2, 2], strides: [1, 1, 1], pads: [0, 0, 0, 0, 0, 0] },
  },
}

/** Inputs full of ties. */
const INPUTS: Record<string, (i: number, next: () => number) => number> = {
  'all zeros': () => 0,
  'ReLU of noise': (_, next) => Math.max(0, next() - 0.5),
  'two levels': (i) => (i % 3 === 0 ? 1 : 0),
}

function poolAttrs(p: Pool): Record<string, Attribute> {
  const attrs: Record<string, Attribute> = {
    kernel_shape: attr.ints(p.kernel),
    strides: attr.ints(p.strides),
    pads: attr.ints(p.pads),
  }
  if (p.dilations) attrs.dilations = attr.ints(p.dilations)
  if (p.ceilMode) attrs.ceil_mode = attr.int(1)
  return attrs
}

/** Row-major strides of a shape. */
const stridesOf = (shape: number[]) => shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1))

/**
 * PyTorch's MaxPool backward as a loop: each output's gradient to the first input of its window
 * (kernel offsets row-major, padding skipped) holding the window's maximum.
 */
function firstMaxGrad(x: Tensor, dy: Tensor, p: Pool): Float64Array {
  const xs = x.shape as number[]
  const ys = dy.shape as number[]
  const rank = xs.length - 2
  const dilations = p.dilations ?? p.kernel.map(() => 1)
  const xStride = stridesOf(xs)
  const kernelStride = stridesOf(p.kernel)
  const kernelCount = p.kernel.reduce((a, b) => a * b, 1)
  const dx = new Float64Array(x.data.length)
  for (let flat = 0; flat < dy.data.length; flat++) {
    const index = stridesOf(ys).map((s, i) => Math.floor(flat / s) % ys[i])
    let best = -Infinity
    let winner = -1
    for (let k = 0; k < kernelCount; k++) {
      let at = index[0] * xStride[0] + index[1] * xStride[1]
      for (let a = 0; a < rank && at >= 0; a++) {
        const offset = Math.floor(k / kernelStride[a]) % p.kernel[a]
        const pos = index[2 + a] * p.strides[a] - p.pads[a] + offset * dilations[a]
        at = pos < 0 || pos >= xs[2 + a] ? -1 : at + pos * xStride[2 + a]
      }
      if (at >= 0 && Number(x.data[at]) > best) {
        best = Number(x.data[at])
        winner = at
      }
    }
    dx[winner] += Number(dy.data[flat])
  }
  return dx
}

function assertClose(actual: ArrayLike<number>, expected: Float64Array, what: string): void {
  assert.equal(actual.length, expected.length)
  for (let i = 0; i < expected.length; i++) {
    const ok = Math.abs(actual[i] - expected[i]) <= 1e-5 * Math.max(1, Math.abs(expected[i]))
    assert.ok(ok, `${what}: dx[${i}] is ${actual[i]}, the first maximum's rule gives ${expected[i]}`)
  }
}

/** Nodes of a graph that ask for MaxPool's Indices output. */
const indicesUsers = (g: Graph) =>
  g.nodes.filter((n) => n.opType === 'MaxPool' && (n.outputs[1] ?? '') !== '')

for (const [geometry, { shape, pool }] of Object.entries(GEOMETRIES)) {
  for (const [inputs, value] of Object.entries(INPUTS)) {
    test(`MaxPool ${geometry}, ${inputs}: the gradient goes to each window's first maximum`, async () => {
      const next = rng(7)
      const size = shape.reduce((a, b) => a * b, 1)
      const x = float32(
        shape,
        Array.from({ length: size }, (_, i) => value(i, next)),
      )
      const graph = lossGraph({
        params: { x },
        nodes: [node('MaxPool', ['x'], ['y'], poolAttrs(pool))],
        output: 'y',
      })
      const training = buildTrainingGraph(graph, 'loss').graph
      assert.deepEqual(indicesUsers(training), [])
      const dy = graph.initializers.get('projection') as Tensor
      const expected = firstMaxGrad(x, dy, pool)
      const grad = gradName('x')
      assertClose(runReference(training, {})[grad].data as Float32Array, expected, 'reference interpreter')
      assertClose((await runOrt(training))[grad], expected, 'onnxruntime')
    })
  }
}

test('no MaxPool gradient case or zoo CNN asks for the Indices output, a Conv or a ScatterElements', () => {
  const graphs: [string, Graph, string][] = Object.entries(CASES)
    .filter(([name]) => name.startsWith('MaxPool'))
    .map(([name, make]) => {
      const next = rng(1)
      return [
        name,
        lossGraph(make((s, lo, hi) => randomTensor('float32', s, next, lo, hi), 'float32')),
        'loss',
      ]
    })
  const cnn = mnistCnn({ batch: 2 })
  const net = resnet({ depth: 18, batch: 1, imageSize: 32 })
  graphs.push(['mnistCnn', cnn.graph, cnn.loss as string], ['resnet18', net.graph, net.loss as string])
  for (const [name, graph, loss] of graphs) {
    const training = buildTrainingGraph(graph, loss).graph
    assert.deepEqual(indicesUsers(training), [], `${name}: MaxPool with an Indices output`)
    const pools = training.nodes.filter((n) => n.name.startsWith('bw/') && /MaxPool/.test(n.name))
    assert.ok(pools.length > 0, `${name}: the MaxPool gradient's nodes are named after it`)
    const inexact = pools.filter((n) => /^(Conv|ConvTranspose|ScatterElements|MaxPool)$/.test(n.opType))
    assert.deepEqual(
      inexact.map((n) => n.opType),
      [],
      `${name}: the MaxPool gradient uses`,
    )
  }
})
