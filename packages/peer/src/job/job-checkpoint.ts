/**
 * A job's checkpoint on the coordinator's disk: one safetensors file per stage (runtime's checkpoint
 * format: parameters, optimizer buffers, running statistics) in `step-NNNNNNNN/`, then `latest.json`
 * naming them with their sizes and hashes. Each file is written atomically and the manifest last, so
 * a crash leaves the previous complete checkpoint in force; reading checks every size and hash.
 */
import { mkdir, readFile } from 'node:fs/promises'
import { join, normalize } from 'node:path'
import { parseJson, parseWith, type StageSpec, type Tensor } from '@atoll/core'
import { checkpointParts, writeAtomically } from '@atoll/runtime'
import * as z from 'zod/mini'
import { JobCheckpointError } from './errors.ts'
import { blobHashOf } from './stage-blob.ts'

const MANIFEST = 'latest.json'

const manifest = z.object({
  version: z.literal(1),
  job: z.string().check(z.maxLength(64)),
  step: z.int().check(z.gte(0)),
  stages: z
    .array(
      z.object({
        file: z.string().check(z.regex(/^step-\d{8}\/stage-\d+\.safetensors$/)),
        bytes: z.int().check(z.gte(0)),
        sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
        peer: z.string().check(z.maxLength(128)),
      }),
    )
    .check(z.minLength(1), z.maxLength(256)),
  specs: z.array(
    z.object({
      name: z.optional(z.string()),
      scopes: z.optional(z.array(z.string())),
      nodes: z.optional(z.array(z.string())),
    }),
  ),
})

/** A committed step's state of the whole model, merged over the stages. */
export interface ModelCheckpoint {
  step: number
  params: Map<string, Tensor>
  /** running statistics */
  state: Map<string, Tensor>
  /** the optimizer's buffers, `<param>.<buffer>` */
  optimizer: Map<string, Tensor>
}

/** The stages' checkpoint files merged into one (a tied parameter is the same in every stage). */
export function mergeStages(step: number, stages: readonly Uint8Array[]): ModelCheckpoint {
  const merged: ModelCheckpoint = { step, params: new Map(), state: new Map(), optimizer: new Map() }
  for (const bytes of stages) {
    const parts = checkpointParts(bytes)
    for (const [n, t] of parts.params) merged.params.set(n, t)
    for (const [n, t] of parts.state) merged.state.set(n, t)
    for (const [n, t] of parts.optimizerTensors) merged.optimizer.set(n, t)
  }
  return merged
}

export async function writeJobCheckpoint(
  dir: string,
  job: string,
  step: number,
  stages: readonly Uint8Array[],
  placed: readonly { peer: string; spec: StageSpec }[],
): Promise<void> {
  const folder = `step-${String(step).padStart(8, '0')}`
  await mkdir(join(dir, folder), { recursive: true })
  const files = []
  for (const [k, bytes] of stages.entries()) {
    const file = `${folder}/stage-${k}.safetensors`
    await writeAtomically(join(dir, file), bytes)
    files.push({ file, bytes: bytes.byteLength, sha256: blobHashOf(bytes), peer: placed[k].peer })
  }
  const record = { version: 1, job, step, stages: files, specs: placed.map((s) => s.spec) }
  await writeAtomically(join(dir, MANIFEST), new TextEncoder().encode(`${JSON.stringify(record, null, 2)}\n`))
}

/** The checkpoint `dir/latest.json` names, for job `job`; every file's size and hash checked. */
export async function readJobCheckpoint(dir: string, job: string): Promise<ModelCheckpoint> {
  const where = join(dir, MANIFEST)
  const text = await readFile(where, 'utf8').catch((err: Error) => {
    throw new JobCheckpointError(`cannot read ${where}: ${err.message}`)
  })
  const fail = (problem: { message: string }) => new JobCheckpointError(`${where}: ${problem.message}`)
  const record = parseWith(manifest, parseJson(text, where, JobCheckpointError), fail)
  if (record.job !== job) throw new JobCheckpointError(`${where} is job '${record.job}', not '${job}'`)
  const stages = await Promise.all(
    record.stages.map(async (s) => {
      const path = join(dir, normalize(s.file))
      const bytes = new Uint8Array(
        await readFile(path).catch((err: Error) => {
          throw new JobCheckpointError(`${where} names ${s.file}, which cannot be read: ${err.message}`)
        }),
      )
      if (bytes.byteLength !== s.bytes || blobHashOf(bytes) !== s.sha256)
        throw new JobCheckpointError(
          `${path} does not match ${where} (size or SHA-256 differs): it is damaged`,
        )
      return bytes
    }),
  )
  return mergeStages(record.step, stages)
}
