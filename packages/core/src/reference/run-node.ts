/** Runs one node on concrete tensors with its reference kernel. */
import type { Node } from '../graph/types.ts'
import { readAttrs } from '../ops/attrs.ts'
import { KernelError, UnsupportedOpError } from '../ops/errors.ts'
import type { Tensor } from '../tensor.ts'
import type { KernelContext, ReferenceOptions } from './kernel.ts'
import { KERNELS } from './kernels.ts'

export function hasKernel(opType: string): boolean {
  return Object.hasOwn(KERNELS, opType)
}

/** The outputs of `node` on `inputs` (undefined for omitted optional inputs), one per node output. */
export function runNode(
  node: Node,
  inputs: (Tensor | undefined)[],
  opset: number,
  options: ReferenceOptions = {},
): Tensor[] {
  if ((node.domain && node.domain !== 'ai.onnx') || !hasKernel(node.opType))
    throw new UnsupportedOpError(node)
  const ctx: KernelContext = {
    node,
    opset,
    attrs: readAttrs(node),
    inputs,
    options,
    input(i) {
      const t = inputs[i]
      if (t === undefined) throw new KernelError(node, `input ${i} is required`)
      return t
    },
    fail(message) {
      throw new KernelError(node, message)
    },
  }
  try {
    return KERNELS[node.opType](ctx)
  } catch (err) {
    // typed errors pass; anything else (an allocation too large for a typed array, …) is reported
    // as this node's failure rather than as a bare RangeError from deep inside a kernel
    if (err instanceof Error && !(err instanceof RangeError || err instanceof TypeError)) throw err
    throw new KernelError(node, `failed: ${(err as Error).message}`)
  }
}
