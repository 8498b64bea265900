/**
 * The GradEmitter collects the nodes and constants of a backward graph. Rules call it to write
 * standard `ai.onnx` nodes; it makes value names unique (never clashing with forward names), tags
 * each node with the scope of the forward node it differentiates (so that partitioning and
 * per-layer timing see backward work where its layer is), and de-duplicates small constants.
 */
import { type Attribute, attr, type Node } from '../graph/types.ts'
import { onnxCodeOfDtype } from '../ops/onnx-dtype.ts'
import { type DType, float32, int64, type Tensor, tensor } from '../tensor.ts'

/** Prefix of every backward value and node name; forward names using it are skipped over. */
export const BACKWARD_PREFIX = 'bw/'

export class GradEmitter {
  readonly nodes: Node[] = []
  readonly initializers = new Map<string, Tensor>()
  /** scope given to the nodes emitted next (the forward node's scope) */
  scope = ''
  /** name hint for the nodes emitted next (the forward node's name) */
  hint = 'grad'
  private counter = 0
  private readonly taken: ReadonlySet<string>
  private readonly constCache = new Map<string, string>()

  /** `taken`: names already used by the forward graph. */
  constructor(taken: ReadonlySet<string>) {
    this.taken = taken
  }

  /** A fresh value name, unique in both graphs. */
  fresh(what: string): string {
    for (;;) {
      const name = `${BACKWARD_PREFIX}${this.hint}/${what}_${this.counter++}`
      if (!this.taken.has(name)) return name
    }
  }

  /** Emits one node and returns its single output. */
  op(opType: string, inputs: string[], attributes: Record<string, Attribute> = {}, output?: string): string {
    return this.opN(opType, inputs, 1, attributes, output === undefined ? undefined : [output])[0]
  }

  /** Emits one node with `count` outputs and returns them. */
  opN(
    opType: string,
    inputs: string[],
    count: number,
    attributes: Record<string, Attribute> = {},
    outputs?: string[],
  ): string[] {
    const outs = outputs ?? Array.from({ length: count }, () => this.fresh(opType))
    this.nodes.push({
      name: this.fresh(`${opType}_node`),
      opType,
      inputs,
      outputs: outs,
      attributes,
      scope: this.scope,
    })
    return outs
  }

  /** A constant tensor as an initializer (identical small constants share one name). */
  constant(tensor: Tensor, what = 'const'): string {
    const key =
      tensor.data.length <= 64
        ? `${tensor.dtype}|${tensor.shape}|${Array.from(tensor.data as ArrayLike<unknown>)}`
        : ''
    const cached = key && this.constCache.get(key)
    if (cached) return cached
    const name = this.fresh(what)
    this.initializers.set(name, tensor)
    if (key) this.constCache.set(key, name)
    return name
  }

  /** A 1-D int64 constant (axes, shapes, starts). */
  ints(values: readonly number[]): string {
    return this.constant(int64([values.length], values), 'ints')
  }

  /**
   * An int32 constant (labels, indices, class ids): onnxruntime's WebGPU provider compares,
   * selects and expands int32 but not int64, so index arithmetic on its path is done in int32.
   */
  int32s(values: readonly number[], shape: readonly number[] = [values.length]): string {
    return this.constant(tensor('int32', shape, Int32Array.from(values)), 'int32s')
  }

  /** A scalar of a floating dtype. */
  scalar(value: number, dtype: DType): string {
    if (dtype === 'float64') return this.constant(tensor('float64', [], Float64Array.of(value)), 'scalar')
    const f = this.constant(float32([], [value]), 'scalar')
    return dtype === 'float32' ? f : this.cast(f, dtype)
  }

  /** A constant float tensor in `dtype` (float16 by a Cast, since half bits need converting). */
  floats(shape: readonly number[], values: Float64Array, dtype: DType, what = 'floats'): string {
    if (dtype === 'float64') return this.constant(tensor('float64', shape, values), what)
    const single = this.constant(tensor('float32', shape, Float32Array.from(values)), what)
    return dtype === 'float32' ? single : this.cast(single, dtype)
  }

  /** A zero tensor of `shape` built at run time (ConstantOfShape), so large zeros cost no file bytes. */
  zeros(shape: readonly number[], dtype: DType): string {
    return this.filled(shape, 0, dtype)
  }

  /** A tensor of `shape` filled with `value`, built at run time like `zeros`. */
  filled(shape: readonly number[], value: number, dtype: DType): string {
    const v = dtype === 'float64' ? tensor('float64', [1], Float64Array.of(value)) : float32([1], [value])
    const t = this.op('ConstantOfShape', [this.ints(shape)], { value: attr.tensor(v) })
    return dtype === 'float64' || dtype === 'float32' ? t : this.cast(t, dtype)
  }

  cast(value: string, to: DType): string {
    return this.op('Cast', [value], { to: attr.int(onnxCodeOfDtype(to)) })
  }

  reshape(value: string, shape: readonly number[]): string {
    return this.op('Reshape', [value, this.ints(shape)])
  }

  transpose(value: string, perm: readonly number[]): string {
    return this.op('Transpose', [value], { perm: attr.ints([...perm]) })
  }

  /**
   * The sum of same-shaped terms as a balanced tree of Adds. Not one variadic Sum: onnxruntime's
   * WebGPU provider has no Sum kernel, and each one sent its inputs to the CPU and back (measured:
   * 18 Sums and their copies were 60 % of a GPT training step on an H200).
   */
  addAll(terms: readonly string[]): string {
    let level = [...terms]
    while (level.length > 1) {
      const next: string[] = []
      for (let i = 0; i < level.length; i += 2)
        next.push(i + 1 < level.length ? this.op('Add', [level[i], level[i + 1]]) : level[i])
      level = next
    }
    return level[0]
  }

  /** ReduceSum over `axes` (axes as an input: opset 13+). */
  reduceSum(value: string, axes: readonly number[], keepdims: boolean): string {
    return this.op('ReduceSum', [value, this.ints(axes)], { keepdims: attr.int(keepdims ? 1 : 0) })
  }
}
