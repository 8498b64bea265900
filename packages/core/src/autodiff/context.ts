/** Builds the GradContext a rule sees for one forward node. */
import type { Node, ValueInfo } from '../graph/types.ts'
import { readAttrs } from '../ops/attrs.ts'
import type { DType, Tensor } from '../tensor.ts'
import type { GradEmitter } from './emitter.ts'
import { DynamicShapeError, UnsupportedGradientError } from './errors.ts'
import type { GradContext, GradRule } from './rule.ts'

export interface ForwardFacts {
  types: ReadonlyMap<string, ValueInfo>
  constants: ReadonlyMap<string, Tensor>
  opset: number
  convTranspose: boolean
  /** values whose gradient is wanted (they depend on something being differentiated) */
  needsGrad: ReadonlySet<string>
}

/** The static shape of a value, or a DynamicShapeError. */
export function staticShape(types: ReadonlyMap<string, ValueInfo>, name: string): number[] {
  const info = types.get(name)
  const shape = info?.shape
  if (shape === undefined || !shape.every((d) => typeof d === 'number')) {
    throw new DynamicShapeError(name, shape === undefined ? 'an unknown shape' : `[${shape}]`)
  }
  return shape as number[]
}

export function gradContext(
  node: Node,
  rule: GradRule,
  facts: ForwardFacts,
  emit: GradEmitter,
  dys: (string | undefined)[],
): GradContext {
  const fail = (message: string): never => {
    throw new UnsupportedGradientError(node, message)
  }
  const name = (list: string[], i: number, what: string) => {
    const n = list[i]
    if (n === undefined || n === '') fail(`${what} ${i} is absent`)
    return n as string
  }
  const dtype = (n: string): DType => facts.types.get(n)?.dtype ?? fail(`value '${n}' has no inferred type`)
  const ctx: GradContext = {
    node,
    opset: facts.opset,
    convTranspose: facts.convTranspose,
    attrs: readAttrs(node),
    emit,
    input(i) {
      const saved = rule.inputsToSave
      if (saved !== 'all' && !saved?.includes(i))
        throw new Error(`${rule.opType} rule reads input ${i} without saving it`)
      return name(node.inputs, i, 'input')
    },
    output(i) {
      if (!rule.outputsToSave?.includes(i))
        throw new Error(`${rule.opType} rule reads output ${i} without saving it`)
      return name(node.outputs, i, 'output')
    },
    hasInput: (i) => (node.inputs[i] ?? '') !== '',
    inputShape: (i) => staticShape(facts.types, name(node.inputs, i, 'input')),
    outputShape: (i) => staticShape(facts.types, name(node.outputs, i, 'output')),
    inputDtype: (i) => dtype(name(node.inputs, i, 'input')),
    outputDtype: (i) => dtype(name(node.outputs, i, 'output')),
    constant: (i) => facts.constants.get(node.inputs[i] ?? ''),
    dy: (i) => dys[i],
    dyOrZeros: (i) => dys[i] ?? emit.zeros(ctx.outputShape(i), ctx.outputDtype(i)),
    needsGrad: (i) => facts.needsGrad.has(node.inputs[i] ?? ''),
    fail,
  }
  return ctx
}
