/**
 * Several optimizer steps in one graph run: forward, backward and AdamW inside an ONNX Loop, one
 * iteration per step, with the parameters and the optimizer's moments carried from iteration to
 * iteration. A backend whose every run copies inputs from the host and outputs back (onnxruntime-node
 * on CUDA) then moves the weights once per run instead of the weights in and the gradients out
 * every step, and the host computes no optimizer step at all: the GPU analogue of Keras's
 * `steps_per_execution`. The update is torch.optim.AdamW's, in the order the runtime's `adamw`
 * computes it.
 *
 * The flat vectors are viewed as rows of `FLAT_ROW` elements. onnxruntime's CUDA Split and Concat
 * of unequal pieces build an index of the split axis's length on the host and copy it to the GPU on
 * every call: along a flat axis of 10.8 M weights the Split took 68 ms and the Concat 86 ms a step on
 * an H100 (bench executor's step_loop under onnxruntime's profiler); along the rows the index is
 * 1,024 times shorter, and the loop ran 3.25× as fast as one step per run on an H100. So a
 * parameter starts a row of its own (zero-padded to whole rows), except the small ones that do not
 * fill whole rows (biases, norms):
 * those are packed together into shared rows, so that their gradients join in one short Concat
 * rather than a Pad and a Reshape each (every node costs host time on a GPU).
 *
 * The loop reads the k-th step's batch from inputs stacked along a new leading axis, and its
 * per-step coefficients (learning-rate schedule, bias corrections) from [steps] vectors the caller
 * computes, so the graph does not depend on the step count or the schedule.
 */
import { GraphBuilder } from '../graph/builder.ts'
import type { Graph, Node, ValueInfo } from '../graph/types.ts'
import { numel, tensor } from '../tensor.ts'
import { GradientTargetError } from './errors.ts'
import type { StateUpdate } from './state.ts'
import { buildTrainingGraph, type TrainingGraphOptions } from './training.ts'

export interface StepLoopOptions extends Pick<TrainingGraphOptions, 'bindings'> {
  /** β1, β2 (default 0.9, 0.999) */
  betas?: readonly [number, number]
  /** default 1e-8 */
  eps?: number
  /** which parameters weight decay applies to (default all) */
  decays?: (name: string) => boolean
}

/** Where one parameter lives in the flat vectors the loop carries. */
export interface FlatSlot {
  name: string
  shape: number[]
  /** a multiple of FLAT_ROW unless `packed` */
  offset: number
  /** the parameter's elements; unless packed, the rest of its last row is zero padding */
  length: number
  /** shares rows with the small parameters beside it (see the module's comment) */
  packed: boolean
}

/** Elements per row of the flat vectors (see the module's comment). */
export const FLAT_ROW = 1024
/** Parameters of at most this many elements that do not fill whole rows are packed. */
const PACKED_MAX = 16 * FLAT_ROW

export interface StepLoop {
  graph: Graph
  /** the parameters in flat order: every decaying one first, then the rest */
  layout: FlatSlot[]
  /** elements of the flat vectors (a multiple of FLAT_ROW) */
  size: number
  /** how many leading elements weight decay applies to (a multiple of FLAT_ROW) */
  decaying: number
  /** feed names: the flat vectors, the per-step coefficients, and each batch input stacked by step */
  feeds: {
    params: string
    expAvg: string
    expAvgSq: string
    /** lr / (1 − β1ᵗ) per step */
    stepSize: string
    /** 1 / √(1 − β2ᵗ) per step */
    invBc2Sqrt: string
    /** lr · λ per step (the weights are multiplied by 1 − lr·λ before the update) */
    decay: string
    /** forward input → its [steps, …] feed */
    batch: Map<string, string>
    /** running statistic → its feed */
    state: Map<string, string>
  }
  /** output names: the flat vectors after the last step, the losses [steps], and each statistic */
  outputs: { params: string; expAvg: string; expAvgSq: string; losses: string; state: Map<string, string> }
  state: StateUpdate[]
}

/** Names of the outer graph all start with this, so that none shadows a value of the loop body. */
const OUTER = 'steploop.'

export function buildStepLoop(source: Graph, loss: string, options: StepLoopOptions = {}): StepLoop {
  const [beta1, beta2] = options.betas ?? [0.9, 0.999]
  const eps = options.eps ?? 1e-8
  const {
    graph: training,
    backward,
    state,
  } = buildTrainingGraph(source, loss, {
    bindings: options.bindings,
  })
  const names = [
    ...training.initializers.keys(),
    ...training.inputs.map((i) => i.name),
    ...training.nodes.flatMap((n) => n.outputs),
  ]
  for (const name of names)
    if (name.startsWith(OUTER))
      throw new GradientTargetError(`'${name}' starts with '${OUTER}', which the step loop reserves`)
  const { layout, size, decaying } = flatLayout(source, options.decays)
  const feeds = {
    params: `${OUTER}params`,
    expAvg: `${OUTER}exp_avg`,
    expAvgSq: `${OUTER}exp_avg_sq`,
    stepSize: `${OUTER}step_size`,
    invBc2Sqrt: `${OUTER}inv_bc2_sqrt`,
    decay: `${OUTER}decay`,
    batch: new Map(training.inputs.map((i) => [i.name, `${OUTER}batch.${i.name}`])),
    state: new Map(state.map((u) => [u.state, `${OUTER}state.${u.state}`])),
  }
  const body = loopBody(training, backward.gradients, state, layout, size, decaying, feeds, loss, {
    beta1,
    beta2,
    eps,
  })
  const flat = (name: string): ValueInfo => ({ name, dtype: 'float32', shape: [size] })
  const perStep = (name: string): ValueInfo => ({ name, dtype: 'float32', shape: ['steps'] })
  const stateInfo = (s: string, name: string): ValueInfo => ({
    name,
    dtype: 'float32',
    shape: [...(training.initializers.get(s)?.shape ?? [])],
  })
  const outputs = {
    params: `${OUTER}params.out`,
    expAvg: `${OUTER}exp_avg.out`,
    expAvgSq: `${OUTER}exp_avg_sq.out`,
    losses: `${OUTER}losses`,
    state: new Map(state.map((u) => [u.state, `${OUTER}state.${u.state}.out`])),
  }
  const lossInfo = training.outputs[0]
  const nodes: Node[] = [
    outerNode('Shape', [feeds.stepSize], [`${OUTER}shape`]),
    outerNode('Squeeze', [`${OUTER}shape`, `${OUTER}axis0`], [`${OUTER}trips`]),
    {
      ...outerNode(
        'Loop',
        [`${OUTER}trips`, '', feeds.params, feeds.expAvg, feeds.expAvgSq, ...feeds.state.values()],
        [outputs.params, outputs.expAvg, outputs.expAvgSq, ...outputs.state.values(), outputs.losses],
      ),
      attributes: { body: { kind: 'graph', value: body } },
    },
  ]
  const graph: Graph = {
    name: `${source.name}.steploop`,
    nodes,
    inputs: [
      flat(feeds.params),
      flat(feeds.expAvg),
      flat(feeds.expAvgSq),
      perStep(feeds.stepSize),
      perStep(feeds.invBc2Sqrt),
      perStep(feeds.decay),
      ...training.inputs.map((i) => ({
        ...i,
        name: feeds.batch.get(i.name) as string,
        shape: ['steps', ...(i.shape ?? [])],
      })),
      ...state.map((u) => stateInfo(u.state, feeds.state.get(u.state) as string)),
    ],
    outputs: [
      flat(outputs.params),
      flat(outputs.expAvg),
      flat(outputs.expAvgSq),
      ...state.map((u) => stateInfo(u.state, outputs.state.get(u.state) as string)),
      { name: outputs.losses, dtype: lossInfo.dtype, shape: ['steps', ...(lossInfo.shape ?? [])] },
    ],
    initializers: new Map([[`${OUTER}axis0`, { dtype: 'int64', shape: [1], data: BigInt64Array.of(0n) }]]),
    parameters: new Set(),
    valueInfo: new Map(),
    opset: training.opset,
  }
  return { graph, layout, size, decaying, feeds, outputs, state }
}

function outerNode(opType: string, inputs: string[], outputs: string[]): Node {
  return { name: `${OUTER}${opType}`, opType, inputs, outputs, attributes: {}, scope: '' }
}

/**
 * Where each parameter sits in the loop's flat vectors: decaying parameters first, so that weight
 * decay scales one leading range of rows. Within each range, the parameters with rows of their own
 * come first, then the packed ones, the range padded to whole rows. `buildStepLoop` lays its
 * vectors out with the same `decays`.
 */
export function flatLayout(
  source: Graph,
  decays: (name: string) => boolean = () => true,
): { layout: FlatSlot[]; size: number; decaying: number } {
  const names = [...source.parameters]
  const layout: FlatSlot[] = []
  let offset = 0
  const place = (group: string[]) => {
    const slots = group.map((name) => {
      const t = source.initializers.get(name)
      if (t === undefined || t.dtype !== 'float32')
        throw new GradientTargetError(`parameter '${name}' must be a float32 initializer for the step loop`)
      const length = numel(t.shape)
      const packed = length % FLAT_ROW !== 0 && length <= PACKED_MAX
      return { name, shape: [...t.shape], offset: 0, length, packed }
    })
    for (const slot of [...slots.filter((s) => !s.packed), ...slots.filter((s) => s.packed)]) {
      layout.push({ ...slot, offset })
      offset += slot.packed ? slot.length : rows(slot) * FLAT_ROW
    }
    offset = Math.ceil(offset / FLAT_ROW) * FLAT_ROW
  }
  place(names.filter(decays))
  const decaying = offset
  place(names.filter((n) => !decays(n)))
  return { layout, size: offset, decaying }
}

/** Rows of the flat vectors one parameter of its own occupies. */
const rows = (s: { length: number }) => Math.max(1, Math.ceil(s.length / FLAT_ROW))

/** A run of rows: one parameter's own, or those a run of packed parameters shares. */
interface RowPiece {
  rows: number
  slots: FlatSlot[]
}

/** The flat vectors' rows in order, as the pieces the weights split into and the gradients join from. */
function rowPieces(layout: readonly FlatSlot[], size: number, decaying: number): RowPiece[] {
  const pieces: { start: number; slots: FlatSlot[] }[] = []
  const range = (s: FlatSlot) => s.offset < decaying
  for (const s of layout) {
    const last = pieces.at(-1)
    if (s.packed && last?.slots[0].packed && range(last.slots[0]) === range(s)) last.slots.push(s)
    else pieces.push({ start: s.offset, slots: [s] })
  }
  return pieces.map((p, i) => ({
    slots: p.slots,
    rows: ((pieces[i + 1]?.start ?? size) - p.start) / FLAT_ROW,
  }))
}

interface Betas {
  beta1: number
  beta2: number
  eps: number
}

/**
 * One step: iteration k's batch and coefficients gathered from the outer inputs, the parameters
 * viewed out of the carried flat vector, forward and backward, then AdamW on the flat vectors.
 */
function loopBody(
  training: Graph,
  gradients: ReadonlyMap<string, string>,
  state: readonly StateUpdate[],
  layout: readonly FlatSlot[],
  size: number,
  decaying: number,
  feeds: StepLoop['feeds'],
  loss: string,
  betas: Betas,
): Graph {
  const params = new Set(layout.map((s) => s.name))
  const stateNames = new Set(state.map((u) => u.state))
  const g: Graph = {
    name: 'step',
    // the training nodes first, so that the builder names nothing after one of their values
    nodes: [...training.nodes],
    inputs: [],
    outputs: [],
    initializers: new Map([...training.initializers].filter(([k]) => !params.has(k) && !stateNames.has(k))),
    parameters: new Set(),
    valueInfo: new Map(training.valueInfo),
    opset: training.opset,
  }
  const b = GraphBuilder.edit(g)
  const input = (base: string, dtype: ValueInfo['dtype'], shape: number[]) => {
    const name = b.unique(base)
    g.inputs.push({ name, dtype, shape })
    return name
  }
  const iter = input('step.iter', 'int64', [])
  const condIn = input('step.cond', 'bool', [])
  const flatIn = {
    theta: input('step.params', 'float32', [size]),
    m: input('step.exp_avg', 'float32', [size]),
    v: input('step.exp_avg_sq', 'float32', [size]),
  }
  for (const u of state) b.input(u.state, 'float32', [...(training.initializers.get(u.state)?.shape ?? [])])
  const at = (outer: string, out?: string) =>
    b.node('Gather', [outer, iter], { axis: 0 }, out === undefined ? {} : { outputs: [out] })[0]
  for (const [inner, outer] of feeds.batch) at(outer, inner)
  // the flat vectors as [rows, FLAT_ROW] (Reshape copies nothing)
  const asRows = b.ints([size / FLAT_ROW, FLAT_ROW])
  const flat = {
    theta: b.op('Reshape', [flatIn.theta, asRows]),
    m: b.op('Reshape', [flatIn.m, asRows]),
    v: b.op('Reshape', [flatIn.v, asRows]),
  }
  const pieces = rowPieces(layout, size, decaying)
  viewParameters(b, flatIn.theta, flat.theta, pieces)
  // what the training nodes read (the step's batch and weights) goes before them
  g.nodes.unshift(...g.nodes.splice(training.nodes.length))
  const coefficients = {
    stepSize: at(feeds.stepSize),
    invBc2Sqrt: at(feeds.invBc2Sqrt),
    decay: at(feeds.decay),
  }
  const grad = flatGradient(b, gradients, pieces)
  const next = adamwNodes(b, { ...flat, grad }, coefficients, { size, decaying }, betas)
  const flatInfo = (n: string): ValueInfo => ({ name: n, dtype: 'float32', shape: [size] })
  const flatOut = (x: string) => b.op('Reshape', [x, b.ints([size])])
  g.outputs = [
    { name: b.op('Identity', [condIn]), dtype: 'bool', shape: [] },
    flatInfo(flatOut(next.theta)),
    flatInfo(flatOut(next.m)),
    flatInfo(flatOut(next.v)),
    ...state.map((u) => ({ ...(training.outputs.find((o) => o.name === u.update) as ValueInfo) })),
    { ...training.outputs[0], name: loss },
  ]
  return g
}

/**
 * Each parameter out of the weights: one that fills whole rows is its piece of one Split by rows,
 * reshaped; the others are sliced out of the flat vector directly (a Slice builds no index on the
 * host). No node changes nothing: each costs host time on a GPU.
 */
function viewParameters(b: GraphBuilder, flat: string, rowsView: string, pieces: readonly RowPiece[]): void {
  const split =
    pieces.length === 1
      ? [rowsView]
      : b.node(
          'Split',
          [rowsView, b.ints(pieces.map((p) => p.rows))],
          { axis: 0 },
          { outputs: pieces.length },
        )
  for (const [k, { slots }] of pieces.entries()) {
    for (const s of slots) {
      const out = { outputs: [s.name] }
      if (s.length % FLAT_ROW === 0) {
        b.node('Reshape', [split[k], b.ints(s.shape)], {}, out)
        continue
      }
      const slice = [flat, b.ints([s.offset]), b.ints([s.offset + s.length])]
      if (s.shape.length === 1) b.node('Slice', slice, {}, out)
      else b.node('Reshape', [b.op('Slice', slice), b.ints(s.shape)], {}, out)
    }
  }
}

/**
 * The gradients as [rows, FLAT_ROW] in the layout's order: a parameter's own rows zero-padded, a
 * packed run's gradients joined end to end (one Concat over the run, not the whole vector).
 */
function flatGradient(b: GraphBuilder, gradients: ReadonlyMap<string, string>, pieces: readonly RowPiece[]) {
  const gradOf = (s: FlatSlot) => {
    const grad = gradients.get(s.name)
    if (grad === undefined) throw new GradientTargetError(`parameter '${s.name}' has no gradient`)
    return grad
  }
  const flatOf = (s: FlatSlot) =>
    s.shape.length === 1 ? gradOf(s) : b.op('Reshape', [gradOf(s), b.ints([-1])])
  const joined = pieces.map(({ rows: n, slots }) => {
    const asRows = b.ints([n, FLAT_ROW])
    const pad = n * FLAT_ROW - slots.reduce((a, s) => a + s.length, 0)
    const [first] = slots
    if (!first.packed)
      return pad === 0
        ? b.op('Reshape', [gradOf(first), asRows])
        : b.op('Reshape', [b.op('Pad', [flatOf(first), b.ints([0, pad])]), asRows])
    const zeros = tensor('float32', [pad], new Float32Array(pad))
    const parts = [...slots.map(flatOf), ...(pad > 0 ? [b.constant(zeros, 'step.padding')] : [])]
    return b.op('Reshape', [parts.length === 1 ? parts[0] : b.op('Concat', parts, { axis: 0 }), asRows])
  })
  return joined.length === 1 ? joined[0] : b.op('Concat', joined, { axis: 0 })
}

/**
 * torch.optim.AdamW on the [rows, FLAT_ROW] vectors, as runtime's `adamw` orders it: m ← m + (1 − β1)(g − m);
 * v ← β2 v + (1 − β2) g²; θ ← θ(1 − lr·λ) on the decaying range; θ ← θ − stepSize · m / (√v · invBc2Sqrt + ε).
 */
function adamwNodes(
  b: GraphBuilder,
  { theta, m, v, grad }: { theta: string; m: string; v: string; grad: string },
  { stepSize, invBc2Sqrt, decay }: { stepSize: string; invBc2Sqrt: string; decay: string },
  { size, decaying }: { size: number; decaying: number },
  { beta1, beta2, eps }: Betas,
) {
  const scalar = (x: number) =>
    b.constant({ dtype: 'float32', shape: [], data: Float32Array.of(x) }, 'step.const')
  // torch: exp_avg.lerp_(grad, 1 − β1)
  const mNext = b.op('Add', [m, b.op('Mul', [b.op('Sub', [grad, m]), scalar(1 - beta1)])])
  const vNext = b.op('Add', [
    b.op('Mul', [v, scalar(beta2)]),
    b.op('Mul', [b.op('Mul', [grad, grad]), scalar(1 - beta2)]),
  ])
  const keep = b.op('Sub', [scalar(1), decay])
  // on part of the rows: 1 − decay·[row decays] as a [rows, 1] factor, not a Concat of two slices
  // (see the module's comment)
  const partly = () => {
    const flags = Float32Array.from({ length: size / FLAT_ROW }, (_, r) => (r < decaying / FLAT_ROW ? 1 : 0))
    const mask = b.constant({ dtype: 'float32', shape: [flags.length, 1], data: flags }, 'step.decaying')
    return b.op('Mul', [theta, b.op('Sub', [scalar(1), b.op('Mul', [mask, decay])])])
  }
  const kept = decaying === 0 ? theta : decaying === size ? b.op('Mul', [theta, keep]) : partly()
  const denom = b.op('Add', [b.op('Mul', [b.op('Sqrt', [vNext]), invBc2Sqrt]), scalar(eps)])
  const thetaNext = b.op('Sub', [kept, b.op('Mul', [b.op('Div', [mNext, denom]), stepSize])])
  return { theta: thetaNext, m: mNext, v: vNext }
}
