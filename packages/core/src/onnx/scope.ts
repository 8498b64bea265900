/**
 * Layer scopes for imported nodes. PyTorch's TorchScript exporter names nodes by module path
 * (`/h.0/attn/c_attn/MatMul`); the dynamo exporter names them `node_MatMul_3` but records the module
 * stack in metadata (`pkg.torch.onnx.name_scopes`: `['', 'h.0', 'h.0.ln_1', 'layer_norm']`: full module
 * paths, outermost first, then the op). Nodes with neither
 * take the scope of a parameter they read (`h.0.ln_1.weight` → `h.0.ln_1`).
 */
import type { NodeP } from './proto.ts'

const NAME_SCOPES_KEY = 'pkg.torch.onnx.name_scopes'
/** Written by exportOnnx (kept equal to its SCOPE_KEY), so Atoll's own graphs round-trip their scopes. */
const ATOLL_SCOPE_KEY = 'atoll.scope'

/** `/h.0/attn/c_attn/MatMul` → `h.0.attn.c_attn`; '' when the name is not a module path. */
export function scopeFromNodeName(name: string): string {
  if (!name.startsWith('/')) return ''
  const parts = name.split('/').filter((p) => p !== '')
  return parts.slice(0, -1).join('.')
}

/** The innermost module path in the dynamo exporter's name-scope metadata. */
export function scopeFromMetadata(node: NodeP): string {
  const entry = node.metadata.find((m) => m.key === NAME_SCOPES_KEY)
  if (entry === undefined) return ''
  const scopes = parseScopeList(entry.value)
  // the last element names the op itself; the one before it is the innermost module's full path
  return scopes.length >= 2 ? scopes[scopes.length - 2] : ''
}

/** Parses a Python-style list of strings (`['', 'h', '0']`), tolerating JSON double quotes. */
function parseScopeList(text: string): string[] {
  const out: string[] = []
  const re = /'([^']*)'|"([^"]*)"/g
  for (let m = re.exec(text); m !== null; m = re.exec(text)) out.push(m[1] ?? m[2])
  return out
}

/** `h.0.ln_1.weight` → `h.0.ln_1`. */
export function scopeFromParameter(name: string): string {
  const i = name.lastIndexOf('.')
  return i < 0 ? '' : name.slice(0, i)
}

/** Whether the node carries Atoll's own scope (then it is taken as is, even when empty). */
export function hasAtollScope(node: NodeP): boolean {
  return node.metadata.some((m) => m.key === ATOLL_SCOPE_KEY)
}

export function scopeOfNode(node: NodeP, parameters: ReadonlySet<string>): string {
  const own = node.metadata.find((m) => m.key === ATOLL_SCOPE_KEY)
  if (own !== undefined) return own.value
  const fromName = scopeFromNodeName(node.name)
  if (fromName !== '') return fromName
  const fromMeta = scopeFromMetadata(node)
  if (fromMeta !== '') return fromMeta
  const param = node.inputs.find((i) => parameters.has(i))
  return param === undefined ? '' : scopeFromParameter(param)
}
