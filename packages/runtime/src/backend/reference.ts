import { runReference, type Tensor } from '@atoll/core'
import { SessionError } from '../errors.ts'
import { type Backend, type BackendSession, type Feed, hostValue, isValue, type Value } from './backend.ts'
import type { BackendProvider } from './registry.ts'

/**
 * core's reference interpreter as a backend: slow, exact (float64 arithmetic inside each op), and
 * dependency-free. For tests, and as ground truth for the onnxruntime backends; never picked by
 * `auto`.
 */
export const referenceBackend: Backend = {
  name: 'reference',
  device: 'cpu',
  format: 'graph',
  async createSession(model): Promise<BackendSession> {
    const graph = model.graph
    if (graph === undefined) throw new SessionError('the reference backend runs a Graph, not ONNX bytes')
    return {
      inputNames: graph.inputs.map((i) => i.name),
      outputNames: graph.outputs.map((o) => o.name),
      async run(feeds, fetches) {
        const host: Record<string, Tensor> = {}
        for (const [name, f] of Object.entries(feeds)) host[name] = await toHost(f)
        let out: Record<string, Tensor>
        try {
          out = runReference(graph, host)
        } catch (err) {
          throw new SessionError(`reference: run failed: ${(err as Error).name}: ${(err as Error).message}`)
        }
        const values: Record<string, Value> = {}
        for (const name of fetches ?? Object.keys(out)) values[name] = hostValue(out[name])
        return values
      },
      release: async () => {},
    }
  },
}

async function toHost(f: Feed): Promise<Tensor> {
  return isValue(f) ? f.read() : f
}

export const referenceProvider: BackendProvider = {
  name: 'reference',
  priority: 0,
  automatic: false,
  init: async () => referenceBackend,
}
