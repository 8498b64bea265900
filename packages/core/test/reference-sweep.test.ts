/**
 * Seeded random configurations — window geometry, slice bounds, broadcast shapes, reduction axes —
 * each run by the reference interpreter and by onnxruntime-node CPU. Hand-picked cases miss the
 * corner combinations (ceil_mode with pads, negative steps past the ends); a sweep finds them.
 */
import { describe, it } from 'node:test'
import { type Attribute, attr } from '../src/graph/types.ts'
import { windowGeometry } from '../src/ops/geometry.ts'
import { int64, tensor } from '../src/tensor.ts'
import { type Case, compareWithOrt, randn } from './reference-ort.ts'

/** A seeded generator of configuration choices (mulberry32). */
function chooser(seed: number) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1))
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)]
  return { int, pick, next }
}

const SWEEP = 40

function convCase(seed: number): Case {
  const r = chooser(seed)
  for (;;) {
    const dims = r.pick([1, 2, 2, 2, 3])
    const group = r.pick([1, 1, 2])
    const cg = r.int(1, 3)
    const mg = r.int(1, 3)
    const spatial = Array.from({ length: dims }, () => r.int(dims === 3 ? 3 : 4, dims === 3 ? 6 : 9))
    const kernel = spatial.map(() => r.int(1, 3))
    const strides = spatial.map(() => r.int(1, 3))
    const dilations = spatial.map(() => r.int(1, 2))
    const pads = [...spatial, ...spatial].map(() => r.int(0, 2))
    const autoPad = r.pick(['NOTSET', 'NOTSET', 'NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'])
    // onnxruntime rejects dilations with SAME_* padding (the ONNX formula is defined; its kernel is not)
    if (autoPad.startsWith('SAME')) dilations.fill(1)
    const spec = { kernel, strides, dilations, pads, autoPad, ceilMode: false }
    if (windowGeometry(spatial, spec).out.some((d) => d <= 0)) continue
    const attrs: Record<string, Attribute> = {
      group: attr.int(group),
      strides: attr.ints(strides),
      dilations: attr.ints(dilations),
      auto_pad: attr.string(autoPad),
    }
    if (autoPad === 'NOTSET') attrs.pads = attr.ints(pads)
    const inputs = {
      x: randn([r.int(1, 2), group * cg, ...spatial], seed),
      w: randn([group * mg, cg, ...kernel], seed + 1),
      ...(r.next() < 0.5 ? { b: randn([group * mg], seed + 2) } : {}),
    }
    return { op: 'Conv', inputs, attrs }
  }
}

function convTransposeCase(seed: number): Case {
  const r = chooser(seed)
  const dims = r.pick([1, 2, 2])
  const group = r.pick([1, 1, 2])
  const spatial = Array.from({ length: dims }, () => r.int(2, 6))
  const kernel = spatial.map(() => r.int(1, 3))
  const strides = spatial.map(() => r.int(1, 3))
  const dilations = spatial.map(() => r.int(1, 2))
  const attrs: Record<string, Attribute> = {
    group: attr.int(group),
    strides: attr.ints(strides),
    dilations: attr.ints(dilations),
  }
  const mode = r.pick(['pads', 'pads', 'output_shape', 'SAME_UPPER', 'SAME_LOWER'])
  if (mode === 'pads') {
    // pads within the kernel span keep every output size positive
    attrs.pads = attr.ints([...kernel, ...kernel].map((k, i) => r.int(0, (k - 1) * dilations[i % dims])))
    attrs.output_padding = attr.ints(strides.map((st) => r.int(0, st - 1)))
  } else if (mode === 'output_shape') {
    attrs.output_shape = attr.ints(
      spatial.map((d, i) => strides[i] * (d - 1) + (kernel[i] - 1) * dilations[i] + 1 - r.int(0, 1)),
    )
  } else {
    attrs.auto_pad = attr.string(mode)
  }
  const cg = r.int(1, 2)
  const mg = r.int(1, 3)
  const inputs: Case['inputs'] = {
    x: randn([r.int(1, 2), group * cg, ...spatial], seed),
    w: randn([group * cg, mg, ...kernel], seed + 1),
  }
  if (r.next() < 0.5) inputs.b = randn([mg * group], seed + 2)
  return { op: 'ConvTranspose', inputs, attrs }
}

function poolCase(seed: number): Case {
  const r = chooser(seed)
  for (;;) {
    const op = r.pick(['MaxPool', 'AveragePool'])
    const spatial = [r.int(3, 9), r.int(3, 9)]
    const kernel = spatial.map(() => r.int(1, 3))
    const strides = spatial.map(() => r.int(1, 3))
    // onnxruntime requires pads smaller than the kernel
    const pads = [...kernel, ...kernel].map((k) => r.int(0, k - 1))
    const dilations = op === 'MaxPool' ? spatial.map(() => r.int(1, 2)) : [1, 1]
    const ceilMode = r.next() < 0.5
    const autoPad = r.pick(['NOTSET', 'NOTSET', 'NOTSET', 'SAME_UPPER', 'VALID'])
    // onnxruntime's SAME pooling ignores dilations and fails on strides beyond the kernel (negative
    // padding); the ONNX formulas Atoll follows differ there, so those combinations are not compared
    if (autoPad.startsWith('SAME')) {
      dilations.fill(1)
      strides.forEach((st, i) => {
        strides[i] = Math.min(st, kernel[i])
      })
    }
    const spec = { kernel, strides, dilations, pads, autoPad, ceilMode }
    if (windowGeometry(spatial, spec).out.some((d) => d <= 0)) continue
    const attrs: Record<string, Attribute> = {
      kernel_shape: attr.ints(kernel),
      strides: attr.ints(strides),
      ceil_mode: attr.int(ceilMode ? 1 : 0),
      auto_pad: attr.string(autoPad),
    }
    if (autoPad === 'NOTSET') attrs.pads = attr.ints(pads)
    if (op === 'MaxPool') attrs.dilations = attr.ints(dilations)
    else attrs.count_include_pad = attr.int(r.int(0, 1))
    return { op, inputs: { x: randn([1, 2, ...spatial], seed) }, attrs }
  }
}

function sliceCase(seed: number): Case {
  const r = chooser(seed)
  const shape = Array.from({ length: r.int(1, 3) }, () => r.int(1, 6))
  const axes = shape.map((_, i) => i).filter(() => r.next() < 0.7)
  if (axes.length === 0) axes.push(0)
  const bound = () =>
    r.pick([r.int(-8, 8), r.int(-8, 8), r.int(-8, 8), Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER])
  const steps = axes.map(() => r.pick([1, 1, 2, 3, -1, -2]))
  const i64 = (v: number[]) => int64([v.length], v)
  return {
    op: 'Slice',
    inputs: {
      x: randn(shape, seed),
      s: i64(axes.map(bound)),
      e: i64(axes.map(bound)),
      a: i64(axes),
      st: i64(steps),
    },
  }
}

function broadcastCase(seed: number): Case {
  const r = chooser(seed)
  const full = Array.from({ length: r.int(1, 4) }, () => r.int(2, 4))
  const operand = () => full.slice(r.int(0, full.length)).map((d) => (r.next() < 0.3 ? 1 : d))
  const op = r.pick(['Add', 'Mul', 'Sub', 'Max', 'Where'])
  if (op === 'Where') {
    const c = operand()
    const n = c.reduce((a, b) => a * b, 1)
    const cond = tensor(
      'bool',
      c,
      Uint8Array.from({ length: n }, () => (r.next() < 0.5 ? 1 : 0)),
    )
    return { op, inputs: { c: cond, a: randn(operand(), seed), b: randn(full, seed + 1) } }
  }
  return { op, inputs: { a: randn(operand(), seed), b: randn(full, seed + 1) } }
}

function reduceCase(seed: number): Case {
  const r = chooser(seed)
  const shape = Array.from({ length: r.int(1, 4) }, () => r.int(1, 4))
  const axes = shape.map((_, i) => (r.next() < 0.5 ? i : i - shape.length)).filter(() => r.next() < 0.5)
  const op = r.pick(['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceL2', 'ReduceLogSumExp'])
  const inputs: Case['inputs'] = { x: randn(shape, seed) }
  if (axes.length) inputs.a = int64([axes.length], axes)
  return { op, inputs, attrs: { keepdims: attr.int(r.int(0, 1)) } }
}

/** One of the axis-parameterised ops, on a random shape and axis. */
function axisCase(seed: number): Case {
  const r = chooser(seed)
  const shape = Array.from({ length: r.int(1, 4) }, () => r.int(1, 4))
  const rank = shape.length
  const axis = r.int(-rank, rank - 1)
  const ax = axis < 0 ? axis + rank : axis
  const x = randn(shape, seed)
  const i64 = (v: number[]) => int64([v.length], v)
  const op = r.pick([
    'Transpose',
    'Gather',
    'Concat',
    'Split',
    'Pad',
    'Tile',
    'Expand',
    'Softmax',
    'LogSoftmax',
    'LayerNormalization',
    'CumSum',
    'ArgMax',
    'TopK',
  ])
  switch (op) {
    case 'Transpose': {
      const perm = shape.map((_, i) => i).sort(() => r.next() - 0.5)
      return { op, inputs: { x }, attrs: { perm: attr.ints(perm) } }
    }
    case 'Gather': {
      const n = r.int(1, 4)
      const idx = Array.from({ length: n }, () => r.int(-shape[ax], shape[ax] - 1))
      return {
        op,
        inputs: { x, i: int64(r.next() < 0.3 ? [] : [n], r.next() < 0.3 ? [idx[0]] : idx) },
        attrs: { axis: attr.int(axis) },
      }
    }
    case 'Concat': {
      const other = shape.map((d, i) => (i === ax ? r.int(1, 3) : d))
      return { op, inputs: { x, y: randn(other, seed + 1) }, attrs: { axis: attr.int(axis) } }
    }
    case 'Split': {
      const cut = r.int(0, shape[ax])
      return {
        op,
        inputs: { x, s: i64([cut, shape[ax] - cut]) },
        attrs: { axis: attr.int(axis) },
        outputs: 2,
      }
    }
    case 'Pad': {
      const mode = r.pick(['constant', 'edge', 'reflect'])
      // reflect needs pads smaller than the axis
      const pads = [...shape, ...shape].map((d) => r.int(0, mode === 'reflect' ? d - 1 : 2))
      return { op, inputs: { x, p: i64(pads) }, attrs: { mode: attr.string(mode) } }
    }
    case 'Tile':
      return { op, inputs: { x, t: i64(shape.map(() => r.int(1, 3))) } }
    case 'Expand':
      return { op, inputs: { x, s: i64([r.int(1, 2), ...shape.map((d) => (d === 1 ? r.int(1, 3) : d))]) } }
    case 'LayerNormalization':
      return { op, inputs: { x, s: randn(shape.slice(ax), seed + 2) }, attrs: { axis: attr.int(axis) } }
    case 'CumSum':
      return {
        op,
        inputs: { x, a: int64([], [axis]) },
        attrs: { reverse: attr.int(r.int(0, 1)), exclusive: attr.int(r.int(0, 1)) },
      }
    case 'ArgMax':
      return { op, inputs: { x }, attrs: { axis: attr.int(axis), keepdims: attr.int(r.int(0, 1)) } }
    case 'TopK':
      return {
        op,
        inputs: { x, k: i64([r.int(1, shape[ax])]) },
        attrs: { axis: attr.int(axis), largest: attr.int(r.int(0, 1)) },
        outputs: 2,
      }
    default:
      return { op, inputs: { x }, attrs: { axis: attr.int(axis) } }
  }
}

function resizeCase(seed: number): Case {
  const r = chooser(seed)
  const spatial = [r.int(2, 6), r.int(2, 6)]
  const mode = r.pick(['nearest', 'linear', 'cubic'])
  const transform = r.pick(['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric'])
  const attrs: Record<string, Attribute> = {
    mode: attr.string(mode),
    coordinate_transformation_mode: attr.string(transform),
    nearest_mode: attr.string(r.pick(['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'])),
    exclude_outside: attr.int(mode === 'cubic' ? r.int(0, 1) : 0),
  }
  const x = randn([1, 2, ...spatial], seed)
  if (r.next() < 0.5) {
    const sizes = spatial.map((d) => r.int(1, 2 * d + 1))
    return {
      op: 'Resize',
      inputs: { x, roi: null, scales: null, sizes: int64([4], [1, 2, ...sizes]) },
      attrs,
    }
  }
  const scales = spatial.map(() => r.pick([0.5, 0.75, 1.5, 2, 3]))
  return {
    op: 'Resize',
    inputs: { x, roi: null, scales: tensor('float32', [4], Float32Array.from([1, 1, ...scales])) },
    attrs,
  }
}

/** MatMul with batch broadcasting and 1-D operands, Gemm with transposes, and the losses. */
function linearCase(seed: number): Case {
  const r = chooser(seed)
  const [m, k, n] = [r.int(1, 4), r.int(1, 4), r.int(1, 4)]
  const op = r.pick(['MatMul', 'MatMul', 'Gemm', 'SoftmaxCrossEntropyLoss', 'NegativeLogLikelihoodLoss'])
  if (op === 'MatMul') {
    const batch = Array.from({ length: r.int(0, 2) }, () => r.int(1, 3))
    const side = () => batch.slice(r.int(0, batch.length)).map((d) => (r.next() < 0.3 ? 1 : d))
    const a = r.next() < 0.2 ? [k] : [...side(), m, k]
    const b = r.next() < 0.2 ? [k] : [...side(), k, n]
    return { op, inputs: { a: randn(a, seed), b: randn(b, seed + 1) } }
  }
  if (op === 'Gemm') {
    const [ta, tb] = [r.int(0, 1), r.int(0, 1)]
    const c = r.pick([[n], [m, n], [1, n], [m, 1], []])
    return {
      op,
      inputs: {
        a: randn(ta ? [k, m] : [m, k], seed),
        b: randn(tb ? [n, k] : [k, n], seed + 1),
        c: randn(c, seed + 2),
      },
      attrs: {
        transA: attr.int(ta),
        transB: attr.int(tb),
        alpha: attr.float(r.pick([1, 0.5])),
        beta: attr.float(r.pick([1, 2])),
      },
    }
  }
  const classes = r.int(2, 5)
  const extra = Array.from({ length: r.int(0, 2) }, () => r.int(1, 3))
  const labels = Array.from({ length: m * extra.reduce((p, q) => p * q, 1) }, () => r.int(0, classes - 1))
  const ignore = r.next() < 0.5 ? labels[0] : undefined
  const attrs: Record<string, Attribute> = { reduction: attr.string(r.pick(['mean', 'sum', 'none'])) }
  if (ignore !== undefined && labels.some((l) => l !== ignore)) attrs.ignore_index = attr.int(ignore)
  const inputs: Case['inputs'] = { x: randn([m, classes, ...extra], seed), t: int64([m, ...extra], labels) }
  if (r.next() < 0.5) inputs.w = randn([classes], seed + 3, 0.5, 2)
  return { op, inputs, attrs, opset: 13 }
}

/** BatchNormalization (inference and training), LayerNormalization, Instance- and GroupNormalization. */
function normCase(seed: number): Case {
  const r = chooser(seed)
  const c = r.pick([2, 4, 6])
  const shape = [r.int(1, 3), c, ...Array.from({ length: r.int(0, 2) }, () => r.int(1, 4))]
  const x = randn(shape, seed)
  const eps = attr.float(r.pick([1e-5, 1e-3, 0.1]))
  const op = r.pick([
    'BatchNormalization',
    'BatchNormalization',
    'LayerNormalization',
    'InstanceNormalization',
    'GroupNormalization',
  ])
  if (op === 'BatchNormalization') {
    const training = r.int(0, 1)
    const stats = { m: randn([c], seed + 3), v: randn([c], seed + 4, 0.5, 2) }
    return {
      op,
      inputs: { x, s: randn([c], seed + 1), b: randn([c], seed + 2), ...stats },
      attrs: { epsilon: eps, momentum: attr.float(r.pick([0.9, 0.5])), training_mode: attr.int(training) },
      opset: 15,
      outputs: training ? 3 : 1,
    }
  }
  if (op === 'LayerNormalization') {
    const axis = r.int(1, shape.length - 1)
    return {
      op,
      inputs: { x, s: randn(shape.slice(axis), seed + 1), b: randn(shape.slice(axis), seed + 2) },
      attrs: { axis: attr.int(axis), epsilon: eps },
    }
  }
  if (shape.length < 3) shape.push(r.int(2, 4))
  const x3 = randn(shape, seed)
  if (op === 'InstanceNormalization')
    return {
      op,
      inputs: { x: x3, s: randn([c], seed + 1), b: randn([c], seed + 2) },
      attrs: { epsilon: eps },
    }
  const groups = r.pick([1, 2])
  return {
    op,
    inputs: { x: x3, s: randn([c], seed + 1), b: randn([c], seed + 2) },
    attrs: { epsilon: eps, num_groups: attr.int(groups) },
    opset: 21,
  }
}

const FAMILIES: [string, (seed: number) => Case][] = [
  ['Conv', convCase],
  ['ConvTranspose', convTransposeCase],
  ['pooling', poolCase],
  ['Slice', sliceCase],
  ['broadcasting', broadcastCase],
  ['reductions', reduceCase],
  ['axis ops', axisCase],
  ['Resize', resizeCase],
  ['MatMul, Gemm and losses', linearCase],
  ['normalisation', normCase],
]

for (const [family, make] of FAMILIES) {
  describe(`sweep: ${family} against onnxruntime`, () => {
    for (let k = 0; k < SWEEP; k++) {
      const c = make(1000 * k + 17)
      const what = Object.entries(c.attrs ?? {})
        .map(([n, a]) => `${n}=${a.value}`)
        .join(' ')
      it(`#${k} ${c.op} ${Object.values(c.inputs)
        .map((t) => `[${t?.shape ?? ''}]`)
        .join(' ')} ${what}`, () => compareWithOrt(c))
    }
  })
}
