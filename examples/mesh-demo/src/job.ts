/**
 * The demo's run: four `atoll peer` daemons in two sites (sites.ts), each allowing this process's
 * coordinator key only; the GPT-on-Moby-Dick job written to OUT/job.json and read back through the
 * job-file reader (checked as any job is); then peer's trainJob, the code behind `atoll train`, with
 * this process as the coordinator: it learns the membership from a1, plans with OP-Fence and AdaTopK,
 * hands out the stages and drives the steps. OUT gets summary.json, report.html and log.jsonl.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AtollMesh, createNode, loadIdentity } from '@atoll/net'
import {
  readJobFile,
  type TrainEvent,
  type TrainSummary,
  trainEventLine,
  trainJob,
  writeReport,
} from '@atoll/peer'
import { type PeerProcesses, type RunningPeer, startLoopbackMesh, waitForMembers } from '@atoll/testnet'
import { DemoInterruptedError } from './errors.ts'
import type { DemoOptions } from './options.ts'
import { BETWEEN, INSIDE, LAYOUT, SITES, START_ORDER, siteOf } from './sites.ts'

/** How long the daemons get to probe all six links before planning. */
const LINK_WAIT_MS = 90_000
/** How long the daemons get to find each other through a1 (peer exchange) and learn their reports. */
const MESH_WAIT_MS = 60_000
/** Held-out batches per evaluation: enough for a steady figure, quick on the coordinator. */
const EVAL_BATCHES = 8

export interface DemoRun {
  summary: TrainSummary
  peers: RunningPeer[]
  files: { summary: string; report: string; log: string }
}

/** The job file of the demo (docs/jobs.md); every path in it is relative to OUT, where it is written. */
export function demoJob(options: DemoOptions) {
  const { seed, batchSize, steps, lr } = options
  return {
    name: 'mesh-demo',
    model: { zoo: 'gpt2:tiny', seed },
    data: { dataset: 'moby-dick', tokenizer: 'bytes', batchSize, seed },
    steps,
    optimizer: { kind: 'adamw', betas: [0.9, 0.95], weightDecay: 0.1 },
    schedule: { kind: 'cosine', lr, warmupSteps: Math.floor(steps / 10), minLr: lr / 10 },
    clip: 1,
    microBatches: options.microBatches,
    placement: 'fence',
    compression: 'adatopk',
    checkpoint: { dir: 'checkpoint', every: steps },
    eval: { every: options.evalEvery, batches: EVAL_BATCHES },
  }
}

/** Starts the daemons in interleaved order, a1 first and the others through it. */
export async function startPeers(
  options: DemoOptions,
  processes: PeerProcesses,
  root: string,
  coordinator: string,
  say: (line: string) => void,
  signal: AbortSignal,
): Promise<RunningPeer[]> {
  return interrupted(signal, 'interrupted while the peers were starting', () =>
    startLoopbackMesh(processes, {
      layout: LAYOUT,
      order: START_ORDER,
      root,
      flags: ['--device', 'cpu', '--probe-seconds', String(options.probeSeconds), '--allow', coordinator],
      started: (peer) =>
        say(`  ${peer.name}  site ${siteOf(peer.name).name}  pid ${peer.pid}  ${peer.peerId}`),
      signal,
    }),
  )
}

/** `work`, its failure on an abort of `signal` turned into the demo's interruption. */
async function interrupted<T>(signal: AbortSignal, message: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    if (signal.aborted) throw new DemoInterruptedError(message)
    throw err
  }
}

/** Runs the demo; `processes` holds the daemons it starts (the caller stops them, whatever happens). */
export async function runDemo(
  options: DemoOptions,
  processes: PeerProcesses,
  root: string,
  view: (event: TrainEvent) => void,
  say: (line: string) => void,
  signal: AbortSignal,
): Promise<DemoRun> {
  const { out } = options
  mkdirSync(out, { recursive: true })
  const key = await loadIdentity(join(root, 'coordinator'))
  const mesh = new AtollMesh(
    await createNode({ privateKey: key, listen: ['/ip4/127.0.0.1/tcp/0'], webrtc: false }),
  )
  await mesh.start()
  try {
    say(`coordinator (this process, pid ${process.pid}): ${mesh.peerId}`)
    say(
      `starting 4 peer processes: sites ${SITES.map((s) => `${s.name} (${s.peers.join(', ')})`).join(' and ')}, ` +
        `${INSIDE.mbit} Mbit/s inside a site, ${BETWEEN.mbit} Mbit/s and ${BETWEEN.delayMs} ms one way between them`,
    )
    const peers = await startPeers(options, processes, root, mesh.peerId, say, signal)
    say('waiting for the daemons to find each other and probe every link…')
    await interrupted(signal, 'interrupted before training began', () =>
      waitForMembers(mesh, peers[0], peers.slice(1), { timeoutMs: MESH_WAIT_MS, signal }),
    )
    const jobFile = join(out, 'job.json')
    writeFileSync(jobFile, `${JSON.stringify(demoJob(options), null, 2)}\n`)
    const job = readJobFile(jobFile)
    const log = join(out, 'log.jsonl')
    writeFileSync(log, '')
    const summary = await untilPlanned(signal, (planned) =>
      trainJob({
        job,
        mesh,
        membership: peers[0].addresses,
        linkWaitMs: LINK_WAIT_MS,
        signal,
        events: (event) => {
          if (event.kind === 'plan') planned()
          appendFileSync(log, trainEventLine(event))
          view(event)
        },
      }),
    )
    const files = { summary: join(out, 'summary.json'), report: '', log }
    const processList = peers.map((p) => ({
      name: p.name,
      site: siteOf(p.name).name,
      pid: p.pid,
      peer_id: p.peerId,
    }))
    const demo = {
      coordinator: { pid: process.pid, peer_id: mesh.peerId },
      processes: processList,
      inside: INSIDE,
      between: BETWEEN,
    }
    writeFileSync(files.summary, `${JSON.stringify({ ...summary, demo }, null, 2)}\n`)
    files.report = await writeReport(out, summary, {
      title: 'atoll demo: gpt2:tiny on Moby Dick over two sites',
      sites: SITES.map((s) => ({ name: s.name, peers: [...s.peers] })),
      notes: [
        `4 peer processes (${processList.map((p) => `${p.name} pid ${p.pid}`).join(', ')}), coordinator pid ${process.pid}.`,
        `Emulated links: ${INSIDE.mbit} Mbit/s inside a site, ${BETWEEN.mbit} Mbit/s with ${BETWEEN.delayMs} ms one way between sites a and b.`,
      ],
    })
    return { summary, peers, files }
  } finally {
    await mesh.stop(0)
  }
}

/**
 * Runs `train`, and gives up on it when `signal` aborts before the plan is made: until then trainJob
 * waits on link probes and does not look at the signal (after, it stops after the step in hand).
 */
async function untilPlanned<T>(signal: AbortSignal, train: (planned: () => void) => Promise<T>): Promise<T> {
  let onAbort = () => {}
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new DemoInterruptedError('interrupted before training began'))
  })
  let planned = false
  const listener = () => planned || onAbort()
  signal.addEventListener('abort', listener, { once: true })
  const training = train(() => {
    planned = true
  })
  training.catch(() => {}) // abandoned on an interrupt: its failure, once the peers stop, is expected
  aborted.catch(() => {})
  try {
    if (signal.aborted) listener()
    return await Promise.race([training, aborted])
  } finally {
    signal.removeEventListener('abort', listener)
  }
}
