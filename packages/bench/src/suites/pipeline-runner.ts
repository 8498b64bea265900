/**
 * The coordinator of the `pipeline` and `sync` suites, a process of its own so that it can run inside a namespace of
 * the testnet (`ip netns exec …`) as well as on loopback: it joins the mesh with the key the daemons
 * allow, trains each job of the spec in turn with @atoll/peer's trainJob (the code behind `atoll
 * train`), and prints one JSON line per run on stdout: the summary, each step's stage busy and wait
 * times and sync times, and the plan as sched made it. Progress goes to stderr.
 *
 *   node pipeline-runner.ts SPEC.json
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { AtollMesh, createNode, loadIdentity } from '@atoll/net'
import { gatherProfiles, parseJob, type TrainEvent, trainJob } from '@atoll/peer'
import type { Plan } from '@atoll/sched'
import { BenchInputError, BenchProcessError } from '../errors.ts'
import { parseRunnerSpec, type RunnerOutput, type RunnerSpec } from './pipeline-spec.ts'

async function main(specPath: string): Promise<void> {
  const spec = parseRunnerSpec(readFileSync(specPath, 'utf8'), specPath)
  const mesh = new AtollMesh(
    await createNode({ privateKey: await loadIdentity(spec.key), listen: [spec.listen], webrtc: false }),
  )
  await mesh.start()
  try {
    await untilMembers(mesh, spec)
    for (const run of spec.runs) {
      const source = join(spec.out, `${run.label}.json`)
      writeFileSync(source, `${JSON.stringify(run.job, null, 2)}\n`)
      const job = parseJob(readFileSync(source, 'utf8'), source)
      const stages: RunnerOutput['stages'] = []
      const sync: RunnerOutput['sync'] = []
      let plan: Plan | undefined
      const t0 = performance.now()
      const summary = await trainJob({
        job,
        mesh,
        membership: spec.membership,
        linkWaitMs: spec.linkWaitMs,
        events: (event: TrainEvent) => {
          if (event.kind === 'plan') {
            plan = event.placement.plan
            process.stderr.write(`${spec.tag}: ${run.label}: ${event.text}\n`)
          }
          if (event.kind === 'step') {
            stages.push(event.result.stages)
            sync.push(event.result.sync ?? { seconds: 0, bytes: 0, periods: [] })
            const r = event.result
            if (r.step % 10 === 0)
              process.stderr.write(
                `${spec.tag}: ${run.label}: step ${r.step} loss ${r.loss.toFixed(3)} ${r.seconds.toFixed(3)} s\n`,
              )
          }
        },
      })
      const output: RunnerOutput = {
        label: run.label,
        summary,
        stages,
        sync,
        plan: plan as Plan,
        wallSeconds: (performance.now() - t0) / 1000,
      }
      process.stdout.write(`${JSON.stringify(output)}\n`)
    }
  } finally {
    await mesh.stop(0)
  }
}

/** How long the daemons get to list each other with their reports and addresses. */
const MEMBERS_WAIT_MS = 60_000

/** Waits until the daemon asked lists every peer (one that has just joined has no address yet). */
async function untilMembers(mesh: AtollMesh, spec: RunnerSpec): Promise<void> {
  const until = performance.now() + MEMBERS_WAIT_MS
  for (;;) {
    const profile = await gatherProfiles(mesh, spec.membership).catch(() => undefined)
    const found = profile?.peers.length ?? 0
    if (found >= spec.peers) return
    if (performance.now() > until)
      throw new BenchProcessError(
        `the membership lists ${found} of ${spec.peers} peers after ${MEMBERS_WAIT_MS / 1000} s`,
      )
    await sleep(500)
  }
}

const args = process.argv.slice(2)
const run =
  args.length === 1
    ? main(args[0])
    : Promise.reject(
        new BenchInputError(`usage: pipeline-runner.ts SPEC.json, given ${args.length} arguments`),
      )
run.then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`pipeline runner: ${err.stack ?? err.message}\n`)
    process.exit(1)
  },
)
