/**
 * ModelBuilder: the layer API's state — a GraphBuilder, a seeded generator, and the static shape of
 * every value, so that layers can size their weights from their inputs (Linear reads in_features).
 */
import { type Dim, type Graph, type ValueInfo, attr } from '../graph/types.ts'
import { DEFAULT_OPSET, GraphBuilder } from '../graph/builder.ts'
import { inferNodeTypes } from '../ops/infer.ts'
import type { DType, Tensor } from '../tensor.ts'
import { type Init, initTensor, Rng } from './init.ts'

/** A value in the graph under construction, with its dtype and shape. */
export interface Value {
  name: string
  dtype: DType
  shape: Dim[]
}

export interface ModelBuilderOptions {
  name?: string
  opset?: number
  /** seed of the parameter initialisation; default 0 */
  seed?: number
  /**
   * Declare parameters by shape only, as graph inputs, without drawing their values: for counting
   * parameters, planning and FLOPs of big models. Default false.
   */
  shapesOnly?: boolean
}

export class ModelBuilder {
  /** the graph under construction, for layers that write nodes the methods below do not cover */
  readonly builder: GraphBuilder
  readonly shapesOnly: boolean
  private readonly rng: Rng

  constructor(options: ModelBuilderOptions = {}) {
    this.builder = new GraphBuilder(options.name ?? 'model', options.opset ?? DEFAULT_OPSET)
    this.rng = new Rng(options.seed ?? 0)
    this.shapesOnly = options.shapesOnly ?? false
  }

  get graph(): Graph {
    return this.builder.graph
  }

  scope<T>(name: string | number, body: () => T): T {
    return this.builder.scope(name, body)
  }

  input(name: string, shape: Dim[], dtype: DType = 'float32'): Value {
    this.builder.input(name, dtype, shape)
    return { name, dtype, shape: [...shape] }
  }

  /** A trainable float32 parameter named `<scope>.<local>`. */
  param(local: string, shape: number[], how: Init): Value {
    const name = this.shapesOnly
      ? this.builder.parameterInput(local, 'float32', shape)
      : this.builder.initializer(local, initTensor(shape, how, this.rng), true)
    return { name, dtype: 'float32', shape }
  }

  /** A non-trainable named state tensor (BatchNorm running statistics). */
  buffer(local: string, value: Tensor): Value {
    return {
      name: this.builder.initializer(local, value, false),
      dtype: value.dtype,
      shape: [...value.shape],
    }
  }

  /** An anonymous constant (shapes, axes, masks, scalars). */
  constant(value: Tensor, local = 'const'): Value {
    return { name: this.builder.constant(value, local), dtype: value.dtype, shape: [...value.shape] }
  }

  /** An int64 vector constant. */
  ints(values: number[], local = 'const'): Value {
    return { name: this.builder.ints(values, local), dtype: 'int64', shape: [values.length] }
  }

  /** A float32 scalar constant. */
  scalar(value: number, local = 'const'): Value {
    return this.constant({ dtype: 'float32', shape: [], data: Float32Array.of(value) }, local)
  }

  /** Appends a single-output node whose output has the given shape (and the first input's dtype). */
  op(
    opType: string,
    inputs: (Value | string)[],
    shape: Dim[],
    attributes: Parameters<GraphBuilder['op']>[2] = {},
    dtype?: DType,
  ): Value {
    const names = inputs.map((v) => (typeof v === 'string' ? v : v.name))
    const name = this.builder.op(opType, names, attributes)
    const value: Value = { name, dtype: dtype ?? this.outputDtype(inputs), shape: [...shape] }
    this.builder.graph.valueInfo.set(name, { name, dtype: value.dtype, shape: [...shape] })
    return value
  }

  /**
   * The dtype the op contract gives the node just appended: not simply its first input's (Where's
   * first input is the bool condition, Equal gives bool, Shape int64), or the exported value types
   * would contradict the ops and onnxruntime would refuse the model.
   */
  private outputDtype(inputs: (Value | string)[]): DType {
    const node = this.graph.nodes[this.graph.nodes.length - 1]
    const types = new Map<string, ValueInfo>()
    const constants = new Map<string, Tensor>()
    inputs.forEach((v, i) => {
      const name = node.inputs[i]
      const t = this.graph.initializers.get(name)
      if (t !== undefined && !this.graph.parameters.has(name)) constants.set(name, t)
      const known = typeof v === 'string' ? this.typeOf(name) : v
      if (known !== undefined) types.set(name, { name, dtype: known.dtype, shape: known.shape })
    })
    return inferNodeTypes(node, this.graph.opset, types, constants)[0].dtype
  }

  private typeOf(name: string): { dtype: DType; shape?: Dim[] } | undefined {
    const t = this.graph.initializers.get(name)
    if (t !== undefined) return { dtype: t.dtype, shape: [...t.shape] }
    return this.graph.valueInfo.get(name) ?? this.graph.inputs.find((i) => i.name === name)
  }

  output(value: Value): Value {
    this.builder.output(value.name, value.dtype, value.shape)
    return value
  }

  build(): Graph {
    return this.builder.build()
  }
}

export { attr }
