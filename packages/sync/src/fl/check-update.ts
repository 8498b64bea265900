/**
 * The content checks of a client's update, before it can count: the model's tensor names exactly,
 * each shape, the codec the round asked for, a payload that decodes (compress's decoders check
 * sizes, codec meta and every sparse index), no more kept values than the assigned keep ratio
 * allows, and only finite values. Running statistics are dense in every round. Everything is
 * decoded into fresh arrays; nothing here touches the global model.
 */
import { decodeEncoded, decodeSparseEntries, keepCount, type SparseEntries, WireError } from '@atoll/compress'
import { numel } from '@atoll/core'
import type { FlAssignment, FlModel, FlRejectionKind, FlUpdateTensor } from './update.ts'

/** One checked tensor of an update: every position (dense) or the kept ones (sparse). */
export type CheckedDelta = { kind: 'dense'; values: Float32Array } | ({ kind: 'sparse' } & SparseEntries)

export type UpdateCheck =
  | { ok: true; tensors: Map<string, CheckedDelta> }
  | { ok: false; kind: FlRejectionKind; reason: string }

type Refusal = { ok: false; kind: FlRejectionKind; reason: string }

const DENSE_CODECS = new Set(['raw', 'fp16', 'int8'])

/**
 * Checks every tensor of `tensors` against `model` and the client's assignment; the running
 * statistics among them (`statistics`) must be dense whatever the round's encoding.
 */
export function checkUpdateContent(
  model: FlModel,
  assignment: FlAssignment,
  tensors: ReadonlyMap<string, FlUpdateTensor>,
  statistics: ReadonlySet<string> = new Set(),
): UpdateCheck {
  const names = checkNames(model, tensors)
  if (names !== undefined) return names
  const checked = new Map<string, CheckedDelta>()
  for (const [name, tensor] of model) {
    const update = tensors.get(name) as FlUpdateTensor
    // a running statistic is dense in every round, its values whole
    const expected: Expected = statistics.has(name)
      ? { keepRatio: 1, encoding: 'dense' }
      : { keepRatio: assignment.keepRatio, encoding: assignment.encoding }
    const result = checkTensor(name, tensor.shape, expected, update)
    if ('ok' in result && result.kind === 'codec' && statistics.has(name))
      return refuse('codec', `${result.reason} (a running statistic: dense in every round)`)
    if ('ok' in result) return result
    checked.set(name, result)
  }
  return { ok: true, tensors: checked }
}

function checkNames(model: FlModel, tensors: ReadonlyMap<string, FlUpdateTensor>): Refusal | undefined {
  const missing = [...model.keys()].filter((name) => !tensors.has(name))
  const unknown = [...tensors.keys()].filter((name) => !model.has(name))
  if (missing.length === 0 && unknown.length === 0) return undefined
  const parts = []
  if (missing.length > 0) parts.push(`missing ${missing.map((n) => `'${n}'`).join(', ')}`)
  if (unknown.length > 0) parts.push(`not in the model ${unknown.map((n) => `'${n}'`).join(', ')}`)
  return { ok: false, kind: 'tensors', reason: `tensors ${parts.join('; ')}` }
}

type Expected = Pick<FlAssignment, 'keepRatio' | 'encoding'>

function checkTensor(
  name: string,
  shape: readonly number[],
  assignment: Expected,
  update: FlUpdateTensor,
): CheckedDelta | Refusal {
  const length = numel(shape)
  const sameShape = update.shape.length === shape.length && update.shape.every((d, i) => d === shape[i])
  if (!sameShape || update.encoded.length !== length) {
    return refuse(
      'shape',
      `'${name}': shape [${update.shape}] of ${update.encoded.length} elements, the model's is [${shape}] of ${length}`,
    )
  }
  const { codec } = update.encoded
  const sparse = assignment.encoding === 'sparse'
  if (sparse ? codec !== 'sparse' : !DENSE_CODECS.has(codec)) {
    return refuse('codec', `'${name}': codec '${codec}', the round asks for a ${assignment.encoding} update`)
  }
  const decoded = decode(name, update, sparse)
  if ('ok' in decoded) return decoded
  if (decoded.kind === 'sparse') {
    const allowed = keepCount(length, assignment.keepRatio)
    if (decoded.indices.length > allowed) {
      return refuse(
        'over-size',
        `'${name}': ${decoded.indices.length} values kept, keep ratio ${assignment.keepRatio} of ${length} allows ${allowed}`,
      )
    }
  }
  const values = decoded.values
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      const at = decoded.kind === 'sparse' ? decoded.indices[i] : i
      return refuse('non-finite', `'${name}': value ${values[i]} at position ${at}`)
    }
  }
  return decoded
}

function decode(name: string, update: FlUpdateTensor, sparse: boolean): CheckedDelta | Refusal {
  try {
    if (sparse) return { kind: 'sparse', ...decodeSparseEntries(update.encoded) }
    return { kind: 'dense', values: decodeEncoded(update.encoded) }
  } catch (err) {
    if (!(err instanceof WireError)) throw err
    return refuse(err.name === 'SparseIndexError' ? 'indices' : 'malformed', `'${name}': ${err.message}`)
  }
}

function refuse(kind: FlRejectionKind, reason: string): Refusal {
  return { ok: false, kind, reason }
}
