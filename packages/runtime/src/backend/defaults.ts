import { ortNodeProviders } from './ort-node.ts'
import { referenceProvider } from './reference.ts'
import { BackendRegistry } from './registry.ts'

/** The registry a Node process uses: onnxruntime-node's cuda, webgpu and cpu, and the reference interpreter (explicit only). */
export function nodeBackends(): BackendRegistry {
  const registry = new BackendRegistry()
  for (const provider of ortNodeProviders()) registry.register(provider)
  registry.register(referenceProvider)
  return registry
}

/** `cpu` unless the user asks for another: predictable numbers and no GPU probe on every start. */
export const DEFAULT_BACKEND = 'cpu'
