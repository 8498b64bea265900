import { ortNodeProviders } from './ort-node.ts'
import { BackendRegistry } from './registry.ts'

/** The registry a Node process uses: onnxruntime-node's cuda, webgpu and cpu. */
export function nodeBackends(): BackendRegistry {
  const registry = new BackendRegistry()
  for (const provider of ortNodeProviders()) registry.register(provider)
  return registry
}

/** `cpu` unless the user asks for another: predictable numbers and no GPU probe on every start. */
export const DEFAULT_BACKEND = 'cpu'
