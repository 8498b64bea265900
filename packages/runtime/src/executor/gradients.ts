import type { Graph } from '@atoll/core'
import type { Value } from '../backend/backend.ts'
import { accumulateGrad, type Parameter } from '../optim/parameter.ts'

/** The outputs holding the gradients of a stage's boundary inputs (not its parameters): what goes upstream. */
export function boundaryGradOutputs(gradients: ReadonlyMap<string, string>, graph: Graph): string[] {
  return [...gradients].filter(([name]) => !graph.parameters.has(name)).map(([, grad]) => grad)
}

/**
 * Adds the parameter gradients a run returned into the Parameters (freeing those values) and
 * returns the boundary inputs' gradients by input name.
 */
export async function takeGradients(
  out: Record<string, Value>,
  gradients: ReadonlyMap<string, string>,
  graph: Graph,
  params: ReadonlyMap<string, Parameter>,
): Promise<Record<string, Value>> {
  const inputGrads: Record<string, Value> = {}
  for (const [name, gradOut] of gradients) {
    const param = params.get(name)
    if (param !== undefined && graph.parameters.has(name)) {
      accumulateGrad(param, (await out[gradOut].read()).data as Float32Array)
      out[gradOut].dispose()
    } else {
      inputGrads[name] = out[gradOut]
    }
  }
  return inputGrads
}
