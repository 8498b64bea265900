/** What a reference kernel sees of its node, and the options of a reference run. */
import type { Node } from '../graph/types.ts'
import type { Attrs } from '../ops/attrs.ts'
import type { Tensor } from '../tensor.ts'

export interface ReferenceOptions {
  /** value names to return besides the graph outputs (any intermediate value) */
  fetch?: string[]
  /** seed of Dropout masks when the node has no `seed` attribute; default 0 */
  seed?: number
}

export interface KernelContext {
  node: Node
  opset: number
  attrs: Attrs
  /** the inputs as written; undefined for an omitted optional input */
  inputs: (Tensor | undefined)[]
  options: ReferenceOptions
  /** input i, or a KernelError when it is omitted */
  input(i: number): Tensor
  /** throws a KernelError naming the node */
  fail(message: string): never
}

export type Kernel = (ctx: KernelContext) => Tensor[]
