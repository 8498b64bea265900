/**
 * GraphBuilder: appends nodes, inputs, outputs and initializers to a graph with unique names and a
 * scope stack, so that layer code reads like the model (`b.scope('attn', () => …)`) and every node
 * lands in the right layer. Also edits existing graphs (`GraphBuilder.edit`), e.g. to append a loss.
 */
import { type Attribute, type Dim, type Graph, type Node, attr } from './types.ts'
import type { DType, Tensor } from '../tensor.ts'
import { int64 } from '../tensor.ts'
import { InvalidGraphError } from './errors.ts'
import { type ValidateOptions, validateGraph } from './validate.ts'

/** The default opset of graphs Atoll builds: 18 (ReduceMean etc. take axes as an input). */
export const DEFAULT_OPSET = 18

export type AttributeInput = Attribute | number | number[] | string

export interface NodeOptions {
  /** how many outputs, or their explicit names; default 1 generated name */
  outputs?: number | string[]
  /** node name; default `<scope>/<OpType>_<k>` */
  name?: string
  domain?: string
}

export class GraphBuilder {
  readonly graph: Graph
  private readonly used = new Set<string>()
  private readonly scopes: string[] = []

  /** A builder of a new, empty graph `name`, or one that appends to `graph` in place. */
  constructor(name: string | Graph = 'model', opset = DEFAULT_OPSET) {
    if (typeof name !== 'string') {
      this.graph = name
      for (const v of name.inputs) this.used.add(v.name)
      for (const k of name.initializers.keys()) this.used.add(k)
      for (const n of name.nodes) {
        this.used.add(n.name)
        for (const o of n.outputs) this.used.add(o)
      }
      return
    }
    this.graph = {
      name,
      nodes: [],
      inputs: [],
      outputs: [],
      initializers: new Map(),
      parameters: new Set(),
      valueInfo: new Map(),
      opset,
    }
  }

  /** A builder that appends to `graph` in place, aware of every name already in it. */
  static edit(graph: Graph): GraphBuilder {
    return new GraphBuilder(graph)
  }

  /** The current scope, dotted: `h.3.attn`. */
  get currentScope(): string {
    return this.scopes.join('.')
  }

  /** Runs `body` inside scope `name` (nested under the current one). */
  scope<T>(name: string | number, body: () => T): T {
    this.scopes.push(String(name))
    try {
      return body()
    } finally {
      this.scopes.pop()
    }
  }

  /** `base`, or `base_1`, `base_2`… — the first name not used yet in the graph; reserves it. */
  unique(base: string): string {
    let name = base
    for (let k = 1; this.used.has(name); k++) name = `${base}_${k}`
    this.used.add(name)
    return name
  }

  /** The scoped form of a local name: `h.3.attn` + `weight` → `h.3.attn.weight`. */
  scoped(local: string): string {
    const s = this.currentScope
    return s === '' ? local : `${s}.${local}`
  }

  input(name: string, dtype: DType, shape: Dim[]): string {
    this.claim(name)
    this.graph.inputs.push({ name, dtype, shape: [...shape] })
    return name
  }

  /** Declares `value` a graph output (its type is optional: shape inference can fill it in). */
  output(value: string, dtype: DType = 'float32', shape?: Dim[]): string {
    this.graph.outputs.push(
      shape === undefined ? { name: value, dtype } : { name: value, dtype, shape: [...shape] },
    )
    return value
  }

  /** A named initializer under the current scope; `trainable` ones are parameters. */
  initializer(local: string, value: Tensor, trainable: boolean): string {
    const name = this.scoped(local)
    this.claim(name)
    this.graph.initializers.set(name, value)
    if (trainable) this.graph.parameters.add(name)
    return name
  }

  /**
   * A trainable parameter given only by its shape: a graph input rather than an initializer. Used
   * by the builder's shapes-only mode, where materialising (say) 124M weights would be wasted work.
   */
  parameterInput(local: string, dtype: DType, shape: number[]): string {
    const name = this.scoped(local)
    this.claim(name)
    this.graph.inputs.push({ name, dtype, shape: [...shape] })
    this.graph.parameters.add(name)
    return name
  }

  /** A non-trainable constant initializer (shapes, axes, scalars), uniquely named under the scope. */
  constant(value: Tensor, local = 'const'): string {
    const name = this.unique(this.scoped(local))
    this.graph.initializers.set(name, value)
    return name
  }

  /** An int64 constant vector (Reshape shapes, Reduce axes, Slice bounds). */
  ints(values: number[], local = 'const'): string {
    return this.constant(int64([values.length], values), local)
  }

  /** Appends a node; returns its output value names. */
  node(
    opType: string,
    inputs: string[],
    attributes: Record<string, AttributeInput> = {},
    opts: NodeOptions = {},
  ) {
    const scope = this.currentScope
    const name = this.unique(opts.name ?? (scope === '' ? opType : `${scope}/${opType}`))
    const outputs =
      opts.outputs === undefined || typeof opts.outputs === 'number'
        ? Array.from({ length: opts.outputs ?? 1 }, (_, i) => (i === 0 ? name : this.unique(`${name}:${i}`)))
        : opts.outputs.map((o) => (o === '' ? '' : this.claim(o)))
    const node: Node = { name, opType, inputs, outputs, attributes: toAttributes(attributes), scope }
    if (opts.domain !== undefined) node.domain = opts.domain
    this.graph.nodes.push(node)
    return outputs
  }

  /** Appends a single-output node and returns its output. */
  op(opType: string, inputs: string[], attributes: Record<string, AttributeInput> = {}): string {
    return this.node(opType, inputs, attributes)[0]
  }

  /** The finished graph, validated and topologically sorted. */
  build(options: ValidateOptions = {}): Graph {
    this.graph.nodes = validateGraph(this.graph, options)
    return this.graph
  }

  private claim(name: string): string {
    if (this.used.has(name))
      throw new InvalidGraphError(`name '${name}' is already used in graph '${this.graph.name}'`)
    this.used.add(name)
    return name
  }
}

/** Plain numbers become INT attributes, number arrays INTS; use `attr.float` for FLOAT. */
function toAttributes(input: Record<string, AttributeInput>): Record<string, Attribute> {
  const out: Record<string, Attribute> = {}
  for (const [k, v] of Object.entries(input)) {
    if (typeof v === 'number') out[k] = attr.int(v)
    else if (typeof v === 'string') out[k] = attr.string(v)
    else if (Array.isArray(v)) out[k] = attr.ints(v)
    // ONNX stores FLOAT attributes as float32: round now so that the graph equals its export
    else if (v.kind === 'float') out[k] = attr.float(Math.fround(v.value))
    else if (v.kind === 'floats') out[k] = attr.floats(v.value.map(Math.fround))
    else out[k] = v
  }
  return out
}
