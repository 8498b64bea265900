/**
 * `atoll bench pipeline`: pipeline jobs across four `atoll peer` daemons in two sites, every figure a
 * ratio of runs made in the same invocation over the same mesh (pipeline-figures.ts says which). As
 * root the sites are the namespace testnet geo2 with kernel-shaped links (pipeline-netns.ts), else peer
 * processes on loopback that emulate their links; the report says which.
 * The runs: OP-Fence with AdaTopK, OP-Fence with dense fence edges (as many steps: the loss gap), and
 * the `even` split in join order, dense and with AdaTopK.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadIdentity, peerIdOfKey } from '@atoll/net'
import { PeerProcesses, startLoopbackMesh } from '@atoll/testnet'
import type { BenchOptions, BenchReport, BenchSuite } from '../suite.ts'
import { type LinkKind, pipelineFigures } from './pipeline-figures.ts'
import {
  benchJob,
  evenInOrder,
  FULL_SIZE,
  type PipelineSize,
  QUICK_SIZE,
  writeModel,
} from './pipeline-jobs.ts'
import { BETWEEN, here, INSIDE, JOIN_ORDER, LAYOUT, runCoordinator } from './pipeline-mesh.ts'
import { namespacesUsable, runOverGeo2 } from './pipeline-netns.ts'
import type { RunnerOutput, RunnerSpec } from './pipeline-spec.ts'

/**
 * How long the daemons get to probe every link before the first plan: on loopback they probe quickly
 * (PROBE_SECONDS); the testnet's daemons probe for their default second each, one pair at a time.
 */
const LINK_WAIT_MS = { emulated: 90_000, netns: 150_000 }
/** Each link probe's time budget on loopback: the demo's, enough for a steady reading at 20 Mbit/s. */
const PROBE_SECONDS = 0.3

export interface PipelineBenchOptions extends BenchOptions {
  /** model and run lengths (default: QUICK_SIZE when `quick`, else FULL_SIZE) */
  size?: PipelineSize
  /** keep the job files, checkpoints and peer logs here (default: a temporary folder, removed) */
  out?: string
  /**
   * `netns`: the namespace testnet geo2, kernel-shaped (root); `emulated`: peer processes on loopback
   * shaping their own links. Default: netns where this process can make namespaces, else emulated.
   */
  links?: 'netns' | 'emulated'
}

/** The runs of the suite over kernel-shaped namespaces when it can make them, else over emulated links. */
export async function runPipelineBench(options: PipelineBenchOptions): Promise<BenchReport> {
  const size = options.size ?? (options.quick ? QUICK_SIZE : FULL_SIZE)
  const links = options.links ?? (namespacesUsable() ? 'netns' : 'emulated')
  const work = options.out ?? mkdtempSync(join(tmpdir(), 'atoll-bench-pipeline-'))
  mkdirSync(work, { recursive: true })
  try {
    const spec = (where: Pick<RunnerSpec, 'key' | 'listen' | 'membership'>) =>
      runnerSpec(size, work, where, LINK_WAIT_MS[links])
    const { runs, link } =
      links === 'netns'
        ? await runOverGeo2(spec, options.log)
        : await runOverLoopback(spec, work, options.log)
    return pipelineFigures(runs, { ...link, size })
  } finally {
    if (options.out === undefined) rmSync(work, { recursive: true, force: true })
  }
}

/** The runs over four peer processes on loopback, each shaping what it sends every other (--emulate-link). */
async function runOverLoopback(
  spec: (where: Pick<RunnerSpec, 'key' | 'listen' | 'membership'>) => RunnerSpec,
  work: string,
  log: (line: string) => void,
): Promise<{ runs: RunnerOutput[]; link: Omit<LinkKind, 'size'> }> {
  const processes = new PeerProcesses(join(work, 'peers'))
  try {
    const keyDir = join(work, 'keys', 'coordinator')
    const coordinator = peerIdOfKey(await loadIdentity(keyDir))
    log(
      `pipeline: 4 peer processes on loopback, sites a (a1, a2) and b (b1, b2), ${INSIDE.mbit} Mbit/s inside, ` +
        `${BETWEEN.mbit} Mbit/s and ${BETWEEN.delayMs} ms between, emulated per peer by the daemons; joining ${JOIN_ORDER.join(', ')}`,
    )
    const peers = await startLoopbackMesh(processes, {
      layout: LAYOUT,
      order: JOIN_ORDER,
      root: join(work, 'keys'),
      flags: ['--device', 'cpu', '--probe-seconds', String(PROBE_SECONDS), '--allow', coordinator],
      started: (p) => log(`pipeline:   ${p.name} pid ${p.pid}`),
    })
    const where = { key: keyDir, listen: '/ip4/127.0.0.1/tcp/0', membership: peers[0].addresses }
    const runs = await runCoordinator(here, spec(where), log)
    return {
      runs,
      link: {
        kind: 'emulated',
        why: "each daemon shapes what it sends every other peer (--emulate-link): a site's two peers do not share an uplink",
        inside: INSIDE,
        between: BETWEEN,
        joinOrder: JOIN_ORDER,
      },
    }
  } finally {
    const killed = await processes.stopAll()
    if (killed.length > 0) log(`pipeline: killed ${killed.join(', ')} (still running after SIGTERM)`)
  }
}

function runnerSpec(
  size: PipelineSize,
  work: string,
  where: Pick<RunnerSpec, 'key' | 'listen' | 'membership'>,
  linkWaitMs: number,
): RunnerSpec {
  const model = writeModel(work, size.gpt)
  const run = (
    label: string,
    placement: Parameters<typeof benchJob>[3]['placement'],
    compression: 'adatopk' | 'none',
    steps: number,
  ) => ({
    label,
    job: benchJob(`bench-${label}`, size, model, { placement, compression, steps, out: work }),
  })
  return {
    ...where,
    tag: 'pipeline',
    peers: JOIN_ORDER.length,
    out: work,
    linkWaitMs,
    runs: [
      run('fence-adatopk', 'fence', 'adatopk', size.steps),
      run('fence-dense', 'fence', 'none', size.steps),
      run('even-dense', { stages: evenInOrder(size, JOIN_ORDER) }, 'none', size.evenSteps),
      run('even-adatopk', { stages: evenInOrder(size, JOIN_ORDER) }, 'adatopk', size.evenSteps),
    ],
  }
}

export const pipeline: BenchSuite = {
  name: 'pipeline',
  summary:
    'OP-Fence vs even, AdaTopK vs dense, estimator error: pipeline jobs over 4 peer processes in 2 sites',
  run: (options) => runPipelineBench(options),
}
