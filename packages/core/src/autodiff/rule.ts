/**
 * The gradient-rule contract (tfjs-core style): one file per op type under `rules/`, each exporting
 * `{ opType, inputsToSave, outputsToSave, grad }`, listed explicitly in `rules/index.ts`.
 *
 * A rule sees its forward node through a GradContext: static shapes and dtypes of every input and
 * output, compile-time constants (axes, shapes, starts), the incoming output gradients, and an
 * emitter for standard `ai.onnx` nodes. It may read at run time only the forward values it declares
 * in `inputsToSave` / `outputsToSave` — that declaration is what a pipeline stage must keep (or
 * recompute) between its forward and its backward pass, so the context enforces it.
 */
import type { Node } from '../graph/types.ts'
import type { Attrs } from '../ops/attrs.ts'
import { BOOL_OPS, INT64_OPS } from '../ops/infer.ts'
import type { DType, Tensor } from '../tensor.ts'
import type { GradEmitter } from './emitter.ts'

export interface GradContext {
  readonly node: Node
  readonly opset: number
  /** write transposed convolutions as ConvTranspose (onnxruntime) rather than Conv (see BackwardOptions) */
  readonly convTranspose: boolean
  readonly attrs: Attrs
  readonly emit: GradEmitter
  /** forward input i's value name, for reading at run time (must be in inputsToSave) */
  input(i: number): string
  /** forward output i's value name, for reading at run time (must be in outputsToSave) */
  output(i: number): string
  /** whether input i is present (not omitted) */
  hasInput(i: number): boolean
  inputShape(i: number): number[]
  outputShape(i: number): number[]
  inputDtype(i: number): DType
  outputDtype(i: number): DType
  /** input i's value when known before run time (initializer or Constant node) */
  constant(i: number): Tensor | undefined
  /** the gradient reaching output i, or undefined when none flows back to it */
  dy(i: number): string | undefined
  /** the gradient reaching output i, zeros when none does */
  dyOrZeros(i: number): string
  /** whether a gradient for input i is wanted (it depends on something being differentiated) */
  needsGrad(i: number): boolean
  /** throws UnsupportedGradientError naming the node */
  fail(message: string): never
}

export interface GradRule {
  opType: string
  /** forward inputs the backward reads at run time ('all' for variadic ops) */
  inputsToSave?: readonly number[] | 'all'
  /** forward outputs the backward reads at run time */
  outputsToSave?: readonly number[]
  /** the gradient of each input (undefined: none, or not wanted) */
  grad(ctx: GradContext): (string | undefined)[]
}

/**
 * Op types that pass no gradient: their outputs are integers, booleans or shapes, or are piecewise
 * constant (zero derivative almost everywhere).
 */
export const NON_DIFFERENTIABLE: ReadonlySet<string> = new Set([
  ...BOOL_OPS,
  ...INT64_OPS,
  'Constant',
  'ConstantOfShape',
  'Range',
  'OneHot',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
  'Mod',
])
