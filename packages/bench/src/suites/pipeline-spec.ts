/**
 * What the `pipeline` suite and its coordinator process (pipeline-runner.ts) exchange: the spec the
 * suite writes (the coordinator's key, the daemon to learn the membership from, the jobs to run in
 * turn) and the line the coordinator prints per run. Both are read through schemas: each side is a
 * separate process, and a line that is not what was written is an error naming the field.
 */
import { parseJson, parseWith } from '@atoll/core'
import * as z from 'zod/mini'
import { BenchInputError } from '../errors.ts'

const text = z.string().check(z.minLength(1))
const seconds = z.number().check(z.gte(0))

export const runnerSpecSchema = z.object({
  /** the suite's name, the prefix of the coordinator's progress lines (default pipeline) */
  tag: z._default(text, 'pipeline'),
  /** the coordinator's key folder: the daemons allow its peer id */
  key: text,
  /** where the coordinator listens (inside a namespace: its peer's address) */
  listen: text,
  /** a daemon's addresses, to learn the membership from */
  membership: z.array(text).check(z.minLength(1)),
  /** how many daemons the membership must list before the first run plans */
  peers: z.int().check(z.gte(1)),
  /** the job files and their checkpoints go here */
  out: text,
  linkWaitMs: z.int().check(z.gte(0)),
  runs: z.array(z.object({ label: text, job: z.record(z.string(), z.unknown()) })).check(z.minLength(1)),
})

export type RunnerSpec = z.infer<typeof runnerSpecSchema>

const stageTimes = z.object({ busySeconds: seconds, waitSeconds: seconds })
const planEdge = z.object({
  from: z.int(),
  to: z.int(),
  bytes: z.number(),
  crossesFence: z.boolean(),
  codec: z.string(),
  keepRatio: z.number(),
  seconds: z.number(),
})

/** One run as the coordinator reports it: the fields of trainJob's summary and of the plan the suite reads. */
export const runnerOutputSchema = z.object({
  label: text,
  summary: z.object({
    steps: z.int(),
    losses: z.array(z.number()),
    eval: z.array(z.object({ step: z.int(), loss: z.number() })),
    peers: z.array(z.object({ id: text, name: text, flops: z.number() })),
    links: z.array(z.object({ a: text, b: text, bandwidth_bps: z.number(), rtt_seconds: z.number() })),
    plan: z.object({
      algorithm: text,
      stages: z.array(z.object({ name: text, layers: z.array(z.string()), cluster: z.int() })),
      predicted_step_seconds: z.number(),
    }),
    step_seconds: z.array(seconds),
    link_bytes: z.record(z.string(), z.number()),
  }),
  /** per step, per stage: seconds computing and seconds waiting for inputs */
  stages: z.array(z.array(stageTimes)),
  /**
   * per step, with replicas: the longest time a worker spent in its sync hooks, the bytes all
   * replicas' collectives sent, and DreamDDP's periods that ended (layers averaged, measured
   * against predicted wait)
   */
  sync: z.array(
    z.object({
      seconds,
      bytes: z.number(),
      periods: z.array(
        z.object({
          stage: z.int(),
          period: z.int(),
          layers: z.array(z.array(z.string())),
          predictedWaitSeconds: z.number(),
          measuredWaitSeconds: z.number(),
          agreementSeconds: z.number(),
        }),
      ),
    }),
  ),
  plan: z.object({
    edges: z.array(planEdge),
    predicted: z.object({
      stepSeconds: z.number(),
      slotSeconds: z.number(),
      bottleneck: z.string(),
      inFlight: z.array(z.int()),
      breakdown: z.record(z.string(), z.number()),
    }),
    stages: z.array(
      z.object({ computeSeconds: z.number(), layers: z.array(z.string()), ops: z.array(z.string()) }),
    ),
  }),
  wallSeconds: seconds,
})

export type RunnerOutput = z.infer<typeof runnerOutputSchema>

/** A line the coordinator printed, checked. */
export function parseRunnerLine(line: string): RunnerOutput {
  return parseWith(runnerOutputSchema, parseJson(line, 'the coordinator', BenchInputError), BenchInputError, {
    root: 'run',
  })
}

/** The spec file the suite wrote, checked. */
export function parseRunnerSpec(textOfFile: string, source: string): RunnerSpec {
  return parseWith(runnerSpecSchema, parseJson(textOfFile, source, BenchInputError), BenchInputError, {
    root: source,
  })
}
