/**
 * One rule per op whose signature or meaning changed between opsets 7 and 13 (ONNX's Changelog.md),
 * rewriting an old node into what opset 13 says the same thing with: attributes that became inputs
 * (Slice 10, Pad 11, Clip 11, Dropout 12, TopK 10, Split/Squeeze/Unsqueeze/ReduceSum 13),
 * Upsample and Resize-10 into Resize-11's explicit coordinate modes, Scatter into ScatterElements,
 * and the attributes opset 7 dropped but old files still carry. A rule mutates the node in place
 * (so its identity, and so its scope, stays) and returns the nodes to put in its stead, or
 * undefined to keep it as it is. Softmax's coerce-to-2-D semantics need ranks, so upgrade.ts
 * handles them after every rule has run.
 */
import type { Attribute, Node } from '../graph/types.ts'
import { attr } from '../graph/types.ts'
import { onnxCodeOfDtype } from '../ops/onnx-dtype.ts'
import { fromF64 } from '../reference/values.ts'
import { type DType, float32, type Tensor } from '../tensor.ts'
import { int64Of } from '../varint.ts'
import { UnsupportedOnnxFeatureError } from './errors.ts'

/** What a rule may ask of the graph being upgraded. */
export interface UpgradeContext {
  /** the file's opset of the default domain */
  opset: number
  /** a new (non-trainable) initializer holding `value`, named after the node and `role` */
  constant(node: Node, role: string, value: Tensor): string
  /** a fresh value name, derived from the node and `role` */
  fresh(node: Node, role: string): string
  /** the value of `name` when it is an initializer or a Constant node's output */
  valueOf(name: string): Tensor | undefined
  /** the element type of `name` where the dtype pass could tell, else undefined */
  dtypeOf(name: string): DType | undefined
  /** whether some node or graph output reads `name` */
  isRead(name: string): boolean
}

export type UpgradeRule = (node: Node, ctx: UpgradeContext) => Node[] | undefined

/** The attribute's integers, removed from the node; undefined when it was absent. */
function takeInts(node: Node, name: string): number[] | undefined {
  const a = node.attributes[name]
  delete node.attributes[name]
  if (a === undefined) return undefined
  if (a.kind === 'ints') return a.value
  if (a.kind === 'int') return [a.value]
  throw new UnsupportedOnnxFeatureError(
    `node '${node.name}': attribute '${name}' should be ints, found ${a.kind}`,
  )
}

function takeFloat(node: Node, name: string): number | undefined {
  const a = node.attributes[name]
  delete node.attributes[name]
  if (a === undefined) return undefined
  if (a.kind === 'float' || a.kind === 'int') return a.value
  throw new UnsupportedOnnxFeatureError(
    `node '${node.name}': attribute '${name}' should be a float, found ${a.kind}`,
  )
}

/** Puts `name` at input `position`, filling skipped optional inputs with ''. */
function setInput(node: Node, position: number, name: string): void {
  while (node.inputs.length < position) node.inputs.push('')
  node.inputs[position] = name
}

/** Attribute integers (read as doubles) as an int64 tensor, clamped to int64 (varint's int64Of). */
function int64Attribute(shape: number[], values: number[]): Tensor {
  return { dtype: 'int64', shape, data: BigInt64Array.from(values, int64Of) }
}

/** An ints attribute → an int64 input of its values (axes, pads, split, starts…). */
function intsToInput(node: Node, ctx: UpgradeContext, name: string, position: number, shape?: number[]) {
  const v = takeInts(node, name)
  if (v !== undefined)
    setInput(node, position, ctx.constant(node, name, int64Attribute(shape ?? [v.length], v)))
}

/** A float attribute → a scalar input of the data's dtype (Clip's bounds, Pad's value). */
function floatToInput(node: Node, ctx: UpgradeContext, name: string, position: number, from = name) {
  const v = takeFloat(node, from)
  if (v === undefined) return
  const dtype = ctx.dtypeOf(node.inputs[0]) ?? 'float32'
  setInput(node, position, ctx.constant(node, name, fromF64(dtype, [], [v])))
}

/** Attributes older opsets defined and opset 7 (or 9, for spatial) removed. */
function dropLegacy(node: Node, ...names: string[]): void {
  for (const n of names) delete node.attributes[n]
}

const axesToInput =
  (since: number): UpgradeRule =>
  (node, ctx) => {
    if (ctx.opset < since) intsToInput(node, ctx, 'axes', 1)
    return undefined
  }

const slice: UpgradeRule = (node, ctx) => {
  if (ctx.opset >= 10) return undefined
  intsToInput(node, ctx, 'starts', 1)
  intsToInput(node, ctx, 'ends', 2)
  intsToInput(node, ctx, 'axes', 3)
  return undefined
}

const pad: UpgradeRule = (node, ctx) => {
  if (ctx.opset >= 11) return undefined
  // opset 1 called it `paddings`
  if (node.attributes.paddings !== undefined) node.attributes.pads = node.attributes.paddings
  dropLegacy(node, 'paddings')
  intsToInput(node, ctx, 'pads', 1)
  floatToInput(node, ctx, 'constant_value', 2, 'value')
  return undefined
}

const clip: UpgradeRule = (node, ctx) => {
  if (ctx.opset >= 11) return undefined
  floatToInput(node, ctx, 'min', 1)
  floatToInput(node, ctx, 'max', 2)
  return undefined
}

const split: UpgradeRule = (node, ctx) => {
  if (ctx.opset < 13) intsToInput(node, ctx, 'split', 1)
  return undefined
}

const topK: UpgradeRule = (node, ctx) => {
  if (ctx.opset < 10) intsToInput(node, ctx, 'k', 1, [1])
  return undefined
}

/**
 * Dropout before 12 took its ratio as an attribute and, before 10, gave its mask in the data's
 * type, where 13 gives bool: a mask that is read is cast back, so its readers see what they did.
 */
const dropout: UpgradeRule = (node, ctx) => {
  if (ctx.opset >= 12) return undefined
  dropLegacy(node, 'is_test')
  const ratio = takeFloat(node, 'ratio')
  if (ratio !== undefined) setInput(node, 1, ctx.constant(node, 'ratio', float32([], [ratio])))
  const mask = node.outputs[1]
  if (ctx.opset >= 10 || mask === undefined || mask === '' || !ctx.isRead(mask)) return undefined
  const boolMask = ctx.fresh(node, 'mask_bool')
  node.outputs[1] = boolMask
  const to = ctx.dtypeOf(node.inputs[0]) ?? 'float32'
  return [node, castNode(node, boolMask, mask, to)]
}

function castNode(origin: Node, input: string, output: string, to: DType): Node {
  return derived(origin, 'cast', 'Cast', [input], [output], { to: attr.int(onnxCodeOfDtype(to)) })
}

/** A node added for `origin`, named after it. */
export function derived(
  origin: Node,
  role: string,
  opType: string,
  inputs: string[],
  outputs: string[],
  attributes: Record<string, Attribute> = {},
): Node {
  return { name: `${origin.name}/${role}`, opType, inputs, outputs, attributes, scope: origin.scope }
}

/** TensorProto.DataType names by code: Cast's `to` was a string in opset 1. */
const DATA_TYPE_NAMES = [
  'UNDEFINED',
  'FLOAT',
  'UINT8',
  'INT8',
  'UINT16',
  'INT16',
  'INT32',
  'INT64',
  'STRING',
  'BOOL',
  'FLOAT16',
  'DOUBLE',
  'UINT32',
  'UINT64',
  'COMPLEX64',
  'COMPLEX128',
  'BFLOAT16',
]

const cast: UpgradeRule = (node) => {
  const to = node.attributes.to
  if (to?.kind !== 'string') return undefined
  const code = DATA_TYPE_NAMES.indexOf(to.value.toUpperCase())
  if (code < 0) throw new UnsupportedOnnxFeatureError(`node '${node.name}': Cast to '${to.value}'`)
  node.attributes.to = attr.int(code)
  return undefined
}

const batchNormalization: UpgradeRule = (node, ctx) => {
  const spatial = node.attributes.spatial
  dropLegacy(node, 'spatial', 'is_test', 'consumed_inputs')
  if (spatial?.kind !== 'int' || spatial.value !== 0) return undefined
  if (node.outputs.filter((o) => o !== '').length > 1)
    throw new UnsupportedOnnxFeatureError(
      `node '${node.name}': BatchNormalization with spatial=0 in training mode (per-element statistics) has no opset-9 form`,
    )
  return perElementBatchNorm(node, ctx)
}

/** spatial=0 in inference: (x − mean) / √(var + ε) · scale + B, the statistics shaped [C, D1…] broadcast. */
function perElementBatchNorm(node: Node, ctx: UpgradeContext): Node[] {
  const [x, scale, bias, mean, variance] = node.inputs
  const epsilon = takeFloat(node, 'epsilon') ?? 1e-5
  const eps = ctx.constant(node, 'epsilon', fromF64(ctx.dtypeOf(x) ?? 'float32', [], [epsilon]))
  const [centred, shifted, std, normed, scaled] = ['centred', 'var_eps', 'std', 'normed', 'scaled'].map(
    (role) => ctx.fresh(node, role),
  )
  return [
    derived(node, 'sub', 'Sub', [x, mean], [centred]),
    derived(node, 'add_eps', 'Add', [variance, eps], [shifted]),
    derived(node, 'sqrt', 'Sqrt', [shifted], [std]),
    derived(node, 'div', 'Div', [centred, std], [normed]),
    derived(node, 'mul', 'Mul', [normed, scale], [scaled]),
    derived(node, 'add', 'Add', [scaled, bias], [node.outputs[0]]),
  ]
}

/**
 * Upsample (7: scales attribute, 9: input) and Resize-10 sample at x_out / scale (Resize-11's
 * `asymmetric`). Nearest rounds down when enlarging, as onnx's version converter writes it; when
 * shrinking, onnxruntime (and onnx's Resize-10 test, 4 → 2 picks elements 0 and 2) rounds up.
 * Upsample's scales are ≥ 1 by its definition; a Resize-10's scales that are not constant are taken
 * to enlarge.
 */
function resizeFromLegacy(node: Node, ctx: UpgradeContext, scales: string): void {
  const mode = node.attributes.mode?.kind === 'string' ? node.attributes.mode.value : 'nearest'
  node.opType = 'Resize'
  node.inputs = [node.inputs[0], '', scales]
  node.attributes = {
    mode: attr.string(mode === 'bilinear' ? 'linear' : mode),
    coordinate_transformation_mode: attr.string('asymmetric'),
  }
  if (mode !== 'nearest') return
  const s = ctx.valueOf(scales)
  const values = s === undefined ? [] : Array.from(s.data as Float32Array, Number)
  const shrinks = values.some((v) => v < 1)
  if (shrinks && values.some((v) => v > 1))
    throw new UnsupportedOnnxFeatureError(
      `node '${node.name}': nearest Resize (opset ${ctx.opset}) that enlarges some axes and shrinks others rounds each its own way; opset 11 has one rounding per node`,
    )
  node.attributes.nearest_mode = attr.string(shrinks ? 'ceil' : 'floor')
}

const upsample: UpgradeRule = (node, ctx) => {
  const given = takeFloatsAttr(node, 'scales')
  const scales =
    given === undefined ? node.inputs[1] : ctx.constant(node, 'scales', float32([given.length], given))
  resizeFromLegacy(node, ctx, scales)
  return undefined
}

function takeFloatsAttr(node: Node, name: string): number[] | undefined {
  const a = node.attributes[name]
  delete node.attributes[name]
  return a?.kind === 'floats' ? a.value : undefined
}

const resize: UpgradeRule = (node, ctx) => {
  if (ctx.opset < 11) resizeFromLegacy(node, ctx, node.inputs[1])
  return undefined
}

/** Scatter (9–10) is ScatterElements under its later name. */
const scatter: UpgradeRule = (node) => {
  node.opType = 'ScatterElements'
  return undefined
}

/** Broadcasting without flags since opset 7: an old file's `broadcast` attribute is dropped. */
const dropBroadcast: UpgradeRule = (node) => {
  dropLegacy(node, 'broadcast', 'consumed_inputs')
  return undefined
}

export const UPGRADE_RULES: Readonly<Record<string, UpgradeRule>> = {
  Slice: slice,
  Pad: pad,
  Clip: clip,
  Split: split,
  Squeeze: axesToInput(13),
  Unsqueeze: axesToInput(13),
  ReduceSum: axesToInput(13),
  TopK: topK,
  Dropout: dropout,
  Cast: cast,
  BatchNormalization: batchNormalization,
  Upsample: upsample,
  Resize: resize,
  Scatter: scatter,
  Gemm: dropBroadcast,
  Add: dropBroadcast,
  Sub: dropBroadcast,
  Mul: dropBroadcast,
  Div: dropBroadcast,
  Pow: dropBroadcast,
}
