import { readdirSync, readFileSync } from 'node:fs'
import {
  parseLayerTimes,
  PUBLISHED_PROFILES,
  parseReferenceSchedule,
  planDreamDdp,
  planEven,
  planFence,
  planRandom,
  scheduleWaits,
  solveContiguous,
  syncProblem,
} from '@atoll/sched'
import { medianSeconds } from '../measure.ts'
import type { BenchOptions, BenchReport, BenchSuite } from '../suite.ts'
import { geo3Large, gpt2Small, manySites } from './sched-scenarios.ts'

/** Sequences of 1024 tokens per micro-batch, and micro-batches per step. */
const BATCH = 4
const MICRO_BATCHES = 8
/**
 * Calibrated FLOP/s per peer of the headline: a CPU server (the namespace testnet's peers are CPU
 * processes). The details sweep faster peers too: the ratio depends on compute vs link speed.
 */
const HEADLINE_FLOPS = 1e12
const SWEEP_FLOPS = [2e11, 1e12, 1e13, 5e13]
const PEER_MEMORY = 32e9
/** --quick solves only these (each well under a second) */
const QUICK_PROFILES = ['gpt2-8w-10gbit', 'llama2-124M-16w-1gbit']

/**
 * The scheduler against its baselines, all under the same workload estimator: OP-Fence vs the even
 * split (and random), planning time for 1000 peers vs the even planner's, and the DreamDDP solver's
 * wait vs the published schedule's on every shared profile.
 */
export const sched: BenchSuite = {
  name: 'sched',
  summary: 'OP-Fence vs even split (estimated), 1000-peer planning time, DreamDDP vs published schedules',
  async run({ quick, log }: BenchOptions): Promise<BenchReport> {
    const results: Record<string, number> = {}
    const targets: Record<string, string> = {}
    const details: Record<string, unknown> = {}
    const ops = gpt2Small(BATCH)
    log(
      `sched: GPT-2 124M, ${ops.length} ops, micro-batch ${BATCH}×1024 tokens, ${MICRO_BATCHES} micro-batches`,
    )

    const sweep = SWEEP_FLOPS.map((flops) => {
      const input = { ...geo3Large(flops, PEER_MEMORY), ops, microBatches: MICRO_BATCHES }
      const fence = planFence(input)
      const dense = planFence(input, { adaTopK: false })
      const even = planEven(input)
      const random = planRandom(input, { seed: 1 })
      return {
        peerFlops: flops,
        fenceStepSeconds: fence.predicted.stepSeconds,
        fenceDenseStepSeconds: dense.predicted.stepSeconds,
        evenStepSeconds: even.predicted.stepSeconds,
        randomStepSeconds: random.predicted.stepSeconds,
        fenceStages: fence.stages.length,
        fenceBottleneck: fence.predicted.bottleneck,
        keepRatios: fence.edges.filter((e) => e.crossesFence).map((e) => e.keepRatio),
      }
    })
    const head = sweep.find((s) => s.peerFlops === HEADLINE_FLOPS)!
    results.fence_vs_even_split_estimated = head.evenStepSeconds / head.fenceStepSeconds
    targets.fence_vs_even_split_estimated = '>= 2.0'
    results.fence_dense_vs_even_split_estimated = head.evenStepSeconds / head.fenceDenseStepSeconds
    results.fence_vs_random_split_estimated = head.randomStepSeconds / head.fenceStepSeconds
    details.geo3_large = { headlinePeerFlops: HEADLINE_FLOPS, peerMemoryBytes: PEER_MEMORY, sweep }

    const [peers, sites] = quick ? [200, 10] : [1000, 20]
    const mesh = manySites(peers, sites)
    const input = { ...mesh, ops, microBatches: MICRO_BATCHES }
    const [runs, warmup] = quick ? [1, 0] : [5, 1]
    const fenceSeconds = medianSeconds(() => planFence(input), runs, warmup)
    const evenSeconds = medianSeconds(() => planEven(input), runs, warmup)
    results.plan_1000_peers_s = fenceSeconds
    targets.plan_1000_peers_s = '<= 2.0'
    results.plan_1000_peers_even_s = evenSeconds
    results.plan_1000_peers_vs_even = fenceSeconds / evenSeconds
    const big = planFence(input)
    details.many_sites = {
      peers,
      sites,
      links: mesh.links.length,
      clusters: big.clusters.length,
      stages: big.stages.length,
      fenceStepSeconds: big.predicted.stepSeconds,
      evenStepSeconds: planEven(input).predicted.stepSeconds,
    }
    log(
      `sched: planned ${peers} peers in ${sites} sites: ${fenceSeconds.toFixed(3)} s (even ${evenSeconds.toFixed(3)} s)`,
    )

    Object.assign(details, dreamddp(quick, results, targets, log))
    return { suite: 'sched', results, targets, details }
  },
}

/** Our wait per period over the published schedule's, under the same FIFO model, per profile. */
function dreamddp(
  quick: boolean,
  results: Record<string, number>,
  targets: Record<string, string>,
  log: (m: string) => void,
): Record<string, unknown> {
  const dirs = readdirSync(PUBLISHED_PROFILES).filter(
    (d) => !d.endsWith('.md') && (!quick || QUICK_PROFILES.includes(d)),
  )
  const rows: Record<string, unknown> = {}
  for (const dir of dirs) {
    const read = (f: string) => readFileSync(new URL(`${dir}/${f}`, PUBLISHED_PROFILES), 'utf8')
    const ref = JSON.parse(read('reference-schedule.json'))
    const problem = syncProblem(parseLayerTimes(read('bp.json')), parseLayerTimes(read('comm.json')), ref.H)
    const refWait = scheduleWaits(parseReferenceSchedule(ref, problem), problem).reduce((a, b) => a + b, 0)
    const t0 = performance.now()
    const plan = planDreamDdp(problem)
    const seconds = (performance.now() - t0) / 1e3
    const key = `dreamddp_wait_vs_published_${dir.replace(/[^A-Za-z0-9]+/g, '_')}`
    results[key] = refWait > 0 ? plan.waitPerPeriod / refWait : plan.waitPerPeriod === 0 ? 1 : Infinity
    targets[key] = '<= 1'
    const published = JSON.parse(read('reference-results.json')).algorithm_times[`H_${ref.H}`]
    rows[dir] = {
      layers: problem.names.length,
      waitPerPeriod: plan.waitPerPeriod,
      publishedWaitPerPeriod: refWait,
      contiguousDpWaitPerPeriod: solveContiguous(problem).waitPerPeriod,
      optimal: plan.optimal,
      lowerBound: plan.lowerBound,
      solveSeconds: seconds,
      syncsPerPeriod: plan.syncs,
      iterationTime: plan.iterationTime,
      publishedScheduleIterationTime: plan.iterationTime - (plan.waitPerPeriod - refWait) / problem.period,
      baselines: plan.baselines,
      publishedModelTimes: published,
    }
    log(
      `sched: ${dir}: wait ${plan.waitPerPeriod.toFixed(5)} s vs published ${refWait.toFixed(5)} s (${seconds.toFixed(2)} s)`,
    )
  }
  return { dreamddp: rows }
}
