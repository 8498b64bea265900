/**
 * Checkpoints: parameters and optimizer state in one safetensors file per step, and a JSON step
 * record `latest.json` that names it. Each file is written to a temporary name, flushed and renamed,
 * and the record goes last: a crash at any moment leaves the previous complete checkpoint in force.
 */
import { createHash } from 'node:crypto'
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { parseJson, parseWith, readSafetensors, type Tensor, tensor, writeSafetensors } from '@atoll/core'
import * as z from 'zod/mini'
import { CheckpointError } from '../errors.ts'
import type { Optimizer, OptimizerState } from '../optim/optimizer.ts'
import type { Parameter } from '../optim/parameter.ts'
import { assignParameters } from './assign.ts'

const RECORD = 'latest.json'
const PARAM_PREFIX = 'param.'
const STATE_PREFIX = 'state.'
const OPTIM_PREFIX = 'optim.'
const FORMAT_VERSION = 1

/** The JSON step record. `extra` holds whatever else the trainer needs to resume (loss so far, data seed). */
export interface CheckpointRecord {
  version: number
  /** optimizer steps completed: training resumes at this step */
  step: number
  file: string
  bytes: number
  sha256: string
  optimizer?: { kind: OptimizerState['kind']; steps: number; options: OptimizerState['options'] }
  extra: Record<string, unknown>
}

export interface SaveOptions {
  /** how many older checkpoint files to keep besides the new one (default 1) */
  keepPrevious?: number
  extra?: Record<string, unknown>
  /** model state saved beside the parameters (running statistics, see modelState) */
  state?: ReadonlyMap<string, Tensor>
}

export async function saveCheckpoint(
  dir: string,
  step: number,
  params: readonly Parameter[],
  optimizer?: Pick<Optimizer, 'exportState'>,
  options: SaveOptions = {},
): Promise<CheckpointRecord> {
  if (!Number.isSafeInteger(step) || step < 0)
    throw new CheckpointError(`step must be an integer ≥ 0, got ${step}`)
  await mkdir(dir, { recursive: true })
  const state = optimizer?.exportState()
  const bytes = checkpointBytes(step, params, state, options.state)
  const file = `step-${String(step).padStart(8, '0')}.safetensors`
  await writeAtomically(join(dir, file), bytes)
  const record: CheckpointRecord = {
    version: FORMAT_VERSION,
    step,
    file,
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    ...(state ? { optimizer: { kind: state.kind, steps: state.steps, options: state.options } } : {}),
    extra: options.extra ?? {},
  }
  await writeAtomically(join(dir, RECORD), new TextEncoder().encode(`${JSON.stringify(record, null, 2)}\n`))
  await prune(dir, file, options.keepPrevious ?? 1)
  return record
}

/**
 * One checkpoint file: the parameters, the optimizer's buffers and the model state as safetensors,
 * the step in its metadata. A job's worker sends its stage's as bytes; saveCheckpoint writes them.
 */
export function checkpointBytes(
  step: number,
  params: readonly Pick<Parameter, 'name' | 'shape' | 'value'>[],
  optimizer?: Pick<OptimizerState, 'tensors'>,
  state?: ReadonlyMap<string, Tensor>,
): Uint8Array {
  const tensors = new Map<string, Tensor>(
    params.map((p) => [PARAM_PREFIX + p.name, tensor('float32', p.shape, p.value)]),
  )
  for (const [name, t] of optimizer?.tensors ?? []) tensors.set(OPTIM_PREFIX + name, t)
  for (const [name, t] of state ?? []) tensors.set(STATE_PREFIX + name, t)
  return writeSafetensors(tensors, { step: String(step) })
}

/** A checkpoint file's tensors by part (see checkpointBytes). */
export function checkpointParts(bytes: Uint8Array): {
  params: Map<string, Tensor>
  state: Map<string, Tensor>
  optimizerTensors: Map<string, Tensor>
} {
  const parts = {
    params: new Map<string, Tensor>(),
    state: new Map<string, Tensor>(),
    optimizerTensors: new Map<string, Tensor>(),
  }
  for (const [name, t] of readSafetensors(bytes).tensors) {
    if (name.startsWith(PARAM_PREFIX)) parts.params.set(name.slice(PARAM_PREFIX.length), t)
    else if (name.startsWith(STATE_PREFIX)) parts.state.set(name.slice(STATE_PREFIX.length), t)
    else if (name.startsWith(OPTIM_PREFIX)) parts.optimizerTensors.set(name.slice(OPTIM_PREFIX.length), t)
  }
  return parts
}

export interface LoadedCheckpoint {
  record: CheckpointRecord
  params: Map<string, Tensor>
  /** model state (running statistics) */
  state: Map<string, Tensor>
  optimizer?: OptimizerState
}

/** Reads the checkpoint `latest.json` names, verifying size and hash; undefined when there is none yet. */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint | undefined> {
  let text: string
  try {
    text = await readFile(join(dir, RECORD), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new CheckpointError(`cannot read ${join(dir, RECORD)}: ${(err as Error).message}`)
  }
  const record = parseRecord(text, join(dir, RECORD))
  const bytes = await readFile(join(dir, record.file)).catch((err: Error) => {
    throw new CheckpointError(`the record names ${record.file}, which cannot be read: ${err.message}`)
  })
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  if (bytes.length !== record.bytes || sha256 !== record.sha256) {
    throw new CheckpointError(
      `${record.file} does not match its record (size or SHA-256 differs): it is damaged`,
    )
  }
  const { params, state, optimizerTensors } = checkpointParts(
    new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  )
  const optimizer = record.optimizer && { ...record.optimizer, tensors: optimizerTensors }
  return { record, params, state, ...(optimizer ? { optimizer } : {}) }
}

/**
 * Puts a loaded checkpoint into live parameters, model state and optimizer; any mismatch (a state
 * tensor missing included) is a CheckpointError.
 */
export function restoreCheckpoint(
  loaded: LoadedCheckpoint,
  params: readonly Parameter[],
  optimizer?: Pick<Optimizer, 'importState'>,
  state: ReadonlyMap<string, Tensor> = new Map(),
): void {
  const source = `checkpoint ${loaded.record.file}`
  const missing = [...state.keys()].filter((n) => !loaded.state.has(n))
  if (missing.length > 0)
    throw new CheckpointError(`${source} has no state '${missing.slice(0, 5).join("', '")}'`)
  assignParameters(params, loaded.params, { source })
  assignParameters([], loaded.state, { source, state })
  if (optimizer === undefined) return
  if (loaded.optimizer === undefined)
    throw new CheckpointError(`checkpoint ${loaded.record.file} has no optimizer state`)
  try {
    optimizer.importState(loaded.optimizer)
  } catch (err) {
    throw new CheckpointError(`checkpoint ${loaded.record.file}: ${(err as Error).message}`)
  }
}

const count = z.int().check(z.gte(0))

/** What `latest.json` holds. `file` is a bare name in the checkpoint directory, never a path. */
const checkpointRecord: z.ZodMiniType<CheckpointRecord> = z.object({
  version: z.literal(FORMAT_VERSION),
  step: count,
  file: z.string().check(z.regex(/^step-\d{8,}\.safetensors$/)),
  bytes: count,
  sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  optimizer: z.optional(
    z.object({
      kind: z.enum(['sgd', 'adamw']),
      steps: count,
      options: z.record(z.string(), z.union([z.number(), z.boolean()])),
    }),
  ),
  extra: z.record(z.string(), z.unknown()),
})

function parseRecord(text: string, where: string): CheckpointRecord {
  const raw = parseJson(text, where, CheckpointError)
  return parseWith(
    checkpointRecord,
    raw,
    (problem) =>
      new CheckpointError(`${where} is not a version-${FORMAT_VERSION} step record: ${problem.message}`),
  )
}

/**
 * Writes to a temporary name, flushes to disk, then renames over the target (atomic on POSIX): a
 * reader sees the old file or the new one, never a part.
 */
export async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`
  const handle = await open(tmp, 'w')
  try {
    await handle.writeFile(bytes)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(tmp, path)
}

async function prune(dir: string, current: string, keepPrevious: number): Promise<void> {
  const files = (await readdir(dir)).filter((f) => /^step-\d+\.safetensors$/.test(f) && f !== current).sort()
  for (const f of files.slice(0, Math.max(0, files.length - keepPrevious)))
    await rm(join(dir, f), { force: true })
}
