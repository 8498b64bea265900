/**
 * The ctrl methods of a training job, between its coordinator and its workers, with their schemas.
 * Both ends parse what they receive; every string, list and number has a bound, so a hostile or
 * broken peer cannot make the other hold more than it meant to or run with a value it did not check.
 *
 * assign → (the blobs it lacks are sent over /atoll/tensor/1, then assign again) → step/commit, once
 * per step → stop. A step is applied only on `commit`; `abort` drops its gradients everywhere.
 * Between steps of a job with replicas, `regroup` (pipelines that lost a peer are gone) and `admit`
 * (a joiner fills an empty pipeline, given its state by a live replica) change who takes part.
 */
import { type DType, DTYPES } from '@atoll/core'
import { ctrlMethod } from '@atoll/net'
import { optimizerSpec } from '@atoll/runtime'
import * as z from 'zod/mini'

const text = (maxLength: number) => z.string().check(z.maxLength(maxLength))
const list = <T extends z.ZodMiniType>(item: T, maxLength: number) =>
  z.array(item).check(z.maxLength(maxLength))
const index = (max: number) => z.int().check(z.gte(0), z.lte(max))

/** Stages a job may have, micro-batches per step, steps: far beyond any real job, small enough to loop over. */
export const MAX_STAGES = 256
export const MAX_MICRO_BATCHES = 4096
export const MAX_STEPS = 100_000_000
/** Replicas of a stage: one per peer of a cluster, far beyond any real cluster. */
export const MAX_REPLICAS = 256

export const jobId = z
  .string()
  .check(z.regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, { error: 'a job id ([a-z0-9._-], at most 64 characters)' }))

/** A blob's name: the sha-256 of its bytes, in hex. */
export const blobHash = z.string().check(z.regex(/^[0-9a-f]{64}$/, { error: 'a sha-256 in hex' }))

/** a value's name; it goes into edge names (`grad:<value>`), which the wire bounds at 256 */
const valueName = text(240)
const dtype = z.enum(DTYPES as [DType, ...DType[]])
const shape = list(index(2 ** 31), 8)

/** How a boundary tensor crosses its link: as it is, halved, int8 with a scale per block, or its top-k values (fp16) with indices. */
export const edgeCodec = z.enum(['dense', 'fp16', 'int8', 'topk-fp16'])
export type EdgeCodec = z.infer<typeof edgeCodec>

/** A value produced by stage `from` and read by stage `to`; `gradient` when its gradient flows back. */
const edge = z.object({
  value: valueName,
  from: index(MAX_STAGES),
  to: index(MAX_STAGES),
  dtype,
  shape,
  gradient: z.boolean(),
  codec: edgeCodec,
  /** fraction of the elements top-k keeps (1 for the other codecs) */
  keep: z.number().check(z.gt(0), z.lte(1)),
})
export type JobEdge = z.infer<typeof edge>

const member = z.object({
  peerId: text(128),
  addresses: list(text(1024), 32),
  stage: index(MAX_STAGES),
  /** which replica of the stage: replica r of every stage forms pipeline r (default 0) */
  replica: z._default(index(MAX_REPLICAS), 0),
})
export type JobMember = z.infer<typeof member>

/** Measured links between members of the job (sched's LinkProfile). */
const memberLinks = list(
  z.object({
    a: text(128),
    b: text(128),
    bandwidthBps: z.number().check(z.positive()),
    rttSeconds: z.number().check(z.gte(0)),
  }),
  MAX_REPLICAS * MAX_REPLICAS,
)

/** Where a stage that reads graph inputs gets its batches: the named dataset, the same shard everywhere. */
const dataSpec = z.object({
  dataset: text(128),
  batchSize: z.int().check(z.gte(1), z.lte(1 << 20)),
  seed: z.int().check(z.gte(0), z.lte(2 ** 31)),
  /** the model's data input, as the whole model declares it (its batch dimension may be symbolic) */
  input: z.object({ name: valueName, dtype, shape: list(z.union([index(2 ** 31), text(64)]), 8) }),
})
export type JobData = z.infer<typeof dataSpec>

export const assignment = z.object({
  job: jobId,
  /** the step training starts at (after a resume, the checkpoint's) */
  step: index(MAX_STEPS),
  steps: index(MAX_STEPS),
  stage: z.object({
    index: index(MAX_STAGES),
    count: z.int().check(z.gte(1), z.lte(MAX_STAGES)),
    /** the stage's forward graph as ONNX, its parameters as graph inputs */
    graph: blobHash,
    /** the parameters' values (safetensors) */
    params: blobHash,
    /** running statistics: the stage writes each `update` output back into `state` after a forward */
    state: list(z.object({ state: valueName, update: valueName }), 4096),
    /**
     * 1F1B's warm-up on this stage: the micro-batches it holds in flight (default S − s); more where
     * the way to the last stage and back is long, as the plan says (sched's predictStep)
     */
    inFlight: z.optional(z.int().check(z.gte(1), z.lte(MAX_MICRO_BATCHES))),
  }),
  members: list(member, MAX_STAGES),
  /** every edge from or to this stage */
  edges: list(edge, 65536),
  /** parameters read by several stages (tied weights): their gradients are summed over those stages */
  tied: list(z.object({ param: valueName, stages: list(index(MAX_STAGES), MAX_STAGES) }), 4096),
  loss: valueName,
  microBatches: z.int().check(z.gte(1), z.lte(MAX_MICRO_BATCHES)),
  /**
   * this worker's replica of its stage and how many each stage has (default 0 of 1): pipeline r
   * trains on the r-th of every batch's R equal parts
   */
  replica: z._default(
    z.object({ index: index(MAX_REPLICAS), count: z.int().check(z.gte(1), z.lte(MAX_REPLICAS)) }),
    { index: 0, count: 1 },
  ),
  /**
   * how the stage's replicas synchronise (with more than one): the job file's `sync` (checked by
   * @atoll/sync's schema where it is used) and the measured links between the replicas
   */
  sync: z.optional(
    z.object({
      spec: z.record(text(64), z.unknown()),
      links: memberLinks,
    }),
  ),
  /**
   * this worker joins a running job's empty pipeline: its stage's sync group starts at the live
   * replicas' `round` with their `members` (in their order, the joiners last), and it takes their
   * parameters, optimizer and synchronizer state before its first step
   */
  joining: z.optional(z.object({ round: index(MAX_STEPS), members: list(text(128), MAX_REPLICAS) })),
  schedule: z.enum(['1f1b', 'gpipe']),
  optimizer: optimizerSpec,
  data: z.optional(dataSpec),
})
export type Assignment = z.infer<typeof assignment>

const jobOnly = z.object({ job: jobId })
const jobStep = z.object({ job: jobId, step: index(MAX_STEPS) })

/** Sends a worker its stage. It answers with the blobs it lacks (send them, then assign again), or none when it is ready. */
export const assignMethod = ctrlMethod(
  'atoll.job.assign',
  assignment,
  z.object({ missing: list(blobHash, 16) }),
)

/** Runs one step's forward and backward on the stage; the update waits for `commit`. */
export const stepMethod = ctrlMethod(
  'atoll.job.step',
  jobStep,
  z.object({
    /** each micro-batch's loss (the last stage; empty elsewhere) */
    losses: list(z.number(), MAX_MICRO_BATCHES),
    /** Σ g² per parameter this stage owns (a tied one by its first stage only), in float64 */
    sums: list(z.object({ param: valueName, sum: z.number() }), 65536),
    /** seconds the stage spent computing, and waiting for its inputs */
    busySeconds: z.number().check(z.gte(0)),
    waitSeconds: z.number().check(z.gte(0)),
    /** payload bytes this stage sent this step, per receiving peer */
    sent: list(z.object({ to: text(128), bytes: z.int().check(z.gte(0)) }), MAX_STAGES),
    /** the peer is stopping: it takes no more steps after this one (its pipeline leaves, or the job re-plans) */
    leaving: z.optional(z.boolean()),
    /**
     * a replica's synchronisation since its last answer: seconds in the sync hooks (the last
     * commit's parameter averaging and this step's gradients), payload bytes its collectives sent,
     * and DreamDDP's periods that ended
     */
    sync: z.optional(
      z.object({
        seconds: z.number().check(z.gte(0)),
        bytes: z.int().check(z.gte(0)),
        periods: list(
          z.object({
            period: index(MAX_STEPS),
            layers: list(list(valueName, 65536), 256),
            predictedWaitSeconds: z.number(),
            measuredWaitSeconds: z.number(),
            agreementSeconds: z.number(),
          }),
          64,
        ),
        /** S-SGD's gradient rounds of the step: whose gradients made the mean it applied ([] if none came) */
        rounds: list(z.object({ round: index(MAX_STEPS), contributors: list(text(128), MAX_REPLICAS) }), 64),
      }),
    ),
  }),
)

/** Applies the step: gradients scaled by `coef` (clipping), then one optimizer step at `lr`. */
export const commitMethod = ctrlMethod(
  'atoll.job.commit',
  z.object({
    job: jobId,
    step: index(MAX_STEPS),
    coef: z.number().check(z.gte(0), z.lte(1)),
    lr: z.number().check(z.gte(0)),
  }),
  z.object({ applied: index(MAX_STEPS) }),
)

/** Drops the step's gradients (another stage failed it): nothing is applied anywhere. */
export const abortMethod = ctrlMethod('atoll.job.abort', jobStep, z.object({}))

/**
 * Sends the coordinator the stage's checkpoint (parameters, optimizer state, model state: runtime's
 * checkpointBytes) as of the last committed step, over /atoll/tensor/1; answers its name and size.
 */
export const saveMethod = ctrlMethod(
  'atoll.job.save',
  jobStep,
  z.object({ hash: blobHash, bytes: z.int().check(z.gte(0)) }),
)

/**
 * A heartbeat: where the worker's stage of the job stands (the step it is at, whether one is running,
 * and with replicas its sync group's next round and members in order: a joiner's group starts there).
 */
export const statusMethod = ctrlMethod(
  'atoll.job.status',
  jobOnly,
  z.object({
    step: index(MAX_STEPS),
    phase: z.enum(['idle', 'running', 'ran']),
    sync: z.optional(z.object({ round: index(MAX_STEPS), members: list(text(128), MAX_REPLICAS) })),
  }),
)

/** The job's live members from `step` on, every pipeline whole (members of one are all listed or none). */
const membersAt = z.object({ job: jobId, step: index(MAX_STEPS), members: list(member, MAX_STAGES) })

/**
 * Pipelines that lost a peer are gone (after the step that lost it was aborted): the worker's stage
 * replicas re-form their sync group from the members left, each from its own state, and go on at `step`.
 */
export const regroupMethod = ctrlMethod('atoll.job.regroup', membersAt, z.object({}))

/**
 * Peers join empty pipelines at `step` (`members` lists them, already assigned with `joining`): the
 * worker's stage replicas admit the joiners of their stage, the first of them sending its state;
 * `links`: the measured links between the members, the joiners' among them.
 */
export const admitMethod = ctrlMethod(
  'atoll.job.admit',
  z.extend(membersAt, { joiners: list(text(128), MAX_STAGES), links: memberLinks }),
  z.object({}),
)

/** Ends the job on the worker: its stage, sessions and mailbox are released. */
export const stopMethod = ctrlMethod('atoll.job.stop', jobOnly, z.object({}))

/** The tensor edges of a job: boundary activations and gradients, tied-weight gradients, blobs. */
export const edgeName = {
  activation: (value: string) => `act:${value}`,
  gradient: (value: string) => `grad:${value}`,
  tied: (param: string) => `tied:${param}`,
  blob: (hash: string) => `blob:${hash}`,
  checkpoint: (hash: string) => `ckpt:${hash}`,
}
