import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { flagSpec, flagUsage, numeric, parseFlags, readFlags, UsageError } from '@atoll/flags'
import * as z from 'zod/mini'
import type { Command } from '../command.ts'
import { progressBar } from './progress.ts'

/**
 * A default the environment may set: `atoll testnet exec` points these at the testnet's coordinator
 * key and the peer's daemon (docs/testnet.md). Blank counts as unset; the flags' schema takes any
 * other text, so there is nothing else to refuse.
 */
const fromEnvironment = (name: string, fallback: string) => process.env[name] || fallback

const table = {
  'data-dir': {
    arg: 'DIR',
    what: "the local daemon's data directory: its peers are the job's unless the job file lists peers\n$ATOLL_TRAIN_DATA_DIR, when set, is the default",
    schema: z.string().check(z.minLength(1)),
    default: fromEnvironment('ATOLL_TRAIN_DATA_DIR', join(homedir(), '.atoll', 'peer')),
  },
  identity: {
    arg: 'DIR',
    what: 'where the coordinator keeps its key: workers allow this peer id (atoll peer --allow ID)\n$ATOLL_TRAIN_IDENTITY, when set, is the default',
    schema: z.string().check(z.minLength(1)),
    default: fromEnvironment('ATOLL_TRAIN_IDENTITY', join(homedir(), '.atoll', 'coordinator')),
  },
  out: {
    arg: 'DIR',
    what: 'where summary.json, report.html and the event log log.jsonl go (default ./atoll-<job name>)',
    schema: z.string().check(z.minLength(1)),
  },
  'link-wait': {
    arg: 'S',
    what: 'seconds to wait for the daemons to have probed every link before planning',
    schema: numeric(z.number().check(z.gte(0), z.lte(3600))),
    default: 120,
  },
  resume: {
    arg: 'DIR',
    what: "go on from the job checkpoint in DIR (the job file's checkpoint.dir holds the last one)",
    schema: z.string().check(z.minLength(1)),
  },
  'show-id': { what: "print the coordinator's peer id and exit (to put in the workers' --allow)" },
} as const

const usage = [
  'Usage: atoll train JOB.yaml [flags]',
  '',
  'Trains the job over the mesh: learns the peers and their links from a daemon, plans the stages',
  '(OP-Fence by default), sends each worker its stage and drives the steps, with progress here, a',
  'checkpoint every checkpoint.every steps and at the end, and OUT/summary.json. Ctrl-C stops after',
  'the step in hand with a checkpoint. OUT gets summary.json, report.html (loss curve, placement, bytes',
  'per link, predicted vs measured step time) and log.jsonl. The job file is described in docs/jobs.md.',
  '',
  ...flagUsage(table),
].join('\n')

export const train: Command = {
  name: 'train',
  summary: 'train a job file over the mesh: plan, hand out the stages, drive the steps',
  usage,
  async run(args) {
    const { values, positionals } = parseFlags(args, flagSpec(table), true)
    const flags = readFlags(table, values)
    // imported here: libp2p and onnxruntime would slow down every other command
    const { AtollMesh, createNode, loadIdentity, peerIdOfKey } = await import('@atoll/net')
    const peer = await import('@atoll/peer')
    const privateKey = await loadIdentity(flags.identity)
    if (flags['show-id']) {
      console.log(peerIdOfKey(privateKey))
      return 0
    }
    if (positionals.length !== 1)
      throw new UsageError(`atoll train takes one job file, given ${positionals.length}`)
    const job = peer.readJobFile(resolve(positionals[0]))
    const membership = job.peers.length > 0 ? job.peers : peer.daemonAddresses(flags['data-dir'])
    const out = resolve(flags.out ?? `atoll-${job.name}`)
    mkdirSync(out, { recursive: true })
    writeFileSync(join(out, 'log.jsonl'), '') // this run's events only
    const mesh = new AtollMesh(
      await createNode({ privateKey, listen: ['/ip4/0.0.0.0/tcp/0'], webrtc: false }),
    )
    await mesh.start()
    const stop = new AbortController()
    const interrupt = () => {
      console.error('\nstopping after this step (Ctrl-C again to quit now)…')
      stop.abort()
      process.once('SIGINT', () => process.exit(130))
    }
    process.once('SIGINT', interrupt)
    console.error(`coordinator ${mesh.peerId} for job ${job.name}`)
    const bar = progressBar(job.steps, 'train')
    try {
      const summary = await peer.trainJob({
        job,
        mesh,
        membership,
        linkWaitMs: flags['link-wait'] * 1000,
        signal: stop.signal,
        resume: flags.resume === undefined ? undefined : resolve(flags.resume),
        events: (event) => {
          appendFileSync(join(out, 'log.jsonl'), peer.trainEventLine(event))
          report(event, job.steps, bar, peer.membershipLine)
        },
      })
      bar.end()
      writeFileSync(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`)
      await peer.writeReport(out, summary)
      console.log(
        `${summary.steps} steps: loss ${summary.loss_first.toFixed(3)} → ${summary.loss_last.toFixed(3)}; ` +
          `${summary.measured_step_seconds.toFixed(3)} s a step (predicted ${summary.plan.predicted_step_seconds.toFixed(3)}); ` +
          `${join(out, 'summary.json')}`,
      )
      return 0
    } finally {
      process.off('SIGINT', interrupt)
      await mesh.stop(0)
    }
  },
}

type Bar = ReturnType<typeof progressBar>

function report(
  event: import('@atoll/peer').TrainEvent,
  steps: number,
  bar: Bar,
  membershipLine: typeof import('@atoll/peer').membershipLine,
): void {
  if (event.kind === 'links') console.error(`links probed: ${event.measured} of ${event.total}`)
  else if (event.kind === 'plan') console.error(event.text)
  else if (event.kind === 'checkpoint') console.error(`\ncheckpoint at step ${event.step} in ${event.dir}`)
  else if (event.kind === 'eval')
    console.error(`\nheld-out loss at step ${event.step}: ${event.loss.toFixed(4)}`)
  else if (event.kind !== 'step') console.error(`\n${membershipLine(event)}`)
  else {
    const r = event.result
    const busy = r.stages.map((s) => `${Math.round((100 * s.busySeconds) / r.seconds)}%`).join(' ')
    const sent = r.links.reduce((a, l) => a + l.bytes, 0)
    bar.update(
      r.step + 1,
      `loss ${r.loss.toFixed(3)}  ${(event.tokens / r.seconds).toFixed(0)} tok/s  ` +
        `${r.seconds.toFixed(2)} s/step (predicted ${event.predictedSeconds.toFixed(2)})  ` +
        `${(sent / r.seconds / 1e6).toFixed(1)} MB/s on links  stages busy ${busy}  ` +
        `ETA ${Math.round(r.seconds * (steps - r.step - 1))} s`,
    )
  }
}
