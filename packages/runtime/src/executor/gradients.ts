import type { Graph } from '@atoll/core'
import type { BackendSession, Feed, Value } from '../backend/backend.ts'
import { accumulateGrad, type Parameter } from '../optim/parameter.ts'

/** The outputs holding the gradients of a stage's boundary inputs (not its parameters): what goes upstream. */
export function boundaryGradOutputs(gradients: ReadonlyMap<string, string>, graph: Graph): string[] {
  return [...gradients].filter(([name]) => !graph.parameters.has(name)).map(([, grad]) => grad)
}

export interface GradientRun {
  /** the run's outputs but the parameter gradients (taken), the boundary inputs' gradients among them */
  out: Record<string, Value>
  /** the boundary inputs' gradients by input name */
  inputGrads: Record<string, Value>
}

/**
 * Runs `session` and adds the parameter gradients (`gradients`: input name → gradient output) into
 * the Parameters. Where the session runs on another thread that can add outputs there, and the
 * gradients are in shared memory (a job's), that thread adds them (runAdding): a step's gradients
 * then never come to this thread as fresh buffers, which made its heap collect about once a step.
 * Elsewhere they come back and are added here. The same additions in the same order either way.
 */
export async function runTakingGradients(
  session: BackendSession,
  feeds: Readonly<Record<string, Feed>>,
  fetches: readonly string[] | undefined,
  gradients: ReadonlyMap<string, string>,
  graph: Graph,
  params: ReadonlyMap<string, Parameter>,
): Promise<GradientRun> {
  const into: Record<string, Float32Array> = {}
  if (session.runAdding !== undefined)
    for (const [name, gradOut] of gradients) {
      const grad = graph.parameters.has(name) ? params.get(name)?.grad : undefined
      if (grad?.buffer instanceof SharedArrayBuffer) into[gradOut] = grad
    }
  const out =
    session.runAdding !== undefined && Object.keys(into).length > 0
      ? await session.runAdding(feeds, fetches, into)
      : await session.run(feeds, fetches)
  const inputGrads: Record<string, Value> = {}
  for (const [name, gradOut] of gradients) {
    const param = params.get(name)
    if (param === undefined || !graph.parameters.has(name)) inputGrads[name] = out[gradOut]
    else if (!(gradOut in into)) {
      accumulateGrad(param, (await out[gradOut].read()).data as Float32Array)
      out[gradOut].dispose()
      delete out[gradOut]
    }
  }
  return { out, inputGrads }
}
