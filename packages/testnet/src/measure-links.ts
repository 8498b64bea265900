import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { MeasureError } from './errors.ts'
import { bestReading, type LinkSpec, measurementPairs } from './links.ts'
import { measureTcp } from './measure.ts'
import type { LinkFigures, LinkTask } from './mesh-tool.ts'
import { planNetwork } from './plan.ts'
import type { PeerState, TestnetState } from './state.ts'
import { backendFor, findPeer } from './testnet.ts'

/** One measured link, in the shape `status --measure --json` writes. */
export interface MeasuredLink {
  from: string
  to: string
  spec_mbit: number
  measured_mbit: number
  /** What measured it: `/atoll/probe/1` between the daemons, or raw TCP when no daemon runs. */
  via: 'probe' | 'tcp'
}

/**
 * Runs a script of this package inside `peer`, handing each stdout line that holds a JSON object to
 * `onLine` as it comes.
 */
async function onPeer(
  state: TestnetState,
  peer: PeerState,
  script: string,
  args: string[],
  onLine: (value: unknown) => void,
): Promise<void> {
  const b = backendFor(state.backend)
  const argv = [...b.shell(peer).prefix, ...b.script(script), ...args]
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000)
  })
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', resolve)
  })
  let failure: Error | undefined
  for await (const line of createInterface({ input: child.stdout })) {
    if (!line.startsWith('{') || failure !== undefined) continue
    try {
      onLine(JSON.parse(line))
    } catch (err) {
      failure = err as Error
    }
  }
  const code = await exited
  if (failure !== undefined) throw failure
  if (code !== 0) throw new MeasureError(`${script} on ${peer.name} failed: ${stderr.trim().slice(-2000)}`)
}

/**
 * Measures every pair that `measurementPairs` picks, one at a time (measurements at once would share
 * the two CPU cores and the router, and each would see less than its link gives). With daemons up the
 * daemons probe each other with `/atoll/probe/1` while a measuring node holds their probe floor (see
 * `measureOnFloor`); without, raw TCP measures the shaping alone.
 */
export async function measureLinks(
  state: TestnetState,
  options: {
    seconds?: number
    via?: 'probe' | 'tcp'
    /**
     * Measure a link again, up to this many times (default 2), while it reads more than 10% under its
     * spec, and keep the highest reading: the shaping is a ceiling, and a busy CPU can only make a
     * reading low.
     */
    retries?: number
    onLink?: (l: MeasuredLink) => void
  } = {},
): Promise<MeasuredLink[]> {
  const seconds = options.seconds ?? 1.5
  const retries = options.retries ?? 2
  const via = options.via ?? (state.peers.every((p) => p.multiaddr !== undefined) ? 'probe' : 'tcp')
  const pairs = measurementPairs(planNetwork(state.topology))
  const out: MeasuredLink[] = []
  const record = (spec: LinkSpec, mbit: number) => {
    const link = { from: spec.from, to: spec.to, spec_mbit: spec.specMbit, measured_mbit: round1(mbit), via }
    options.onLink?.(link)
    out.push(link)
  }
  if (via === 'probe') {
    await probeOnFloor(state, pairs, seconds, retries, (k, mbit) => record(pairs[k], mbit))
    return out
  }
  const b = backendFor(state.backend)
  await holdingFloor(state, pairs.length * (retries + 1) * (seconds + TCP_OVERHEAD_SECONDS), async () => {
    for (const spec of pairs) {
      const from = b.shell(findPeer(state, spec.from))
      const to = findPeer(state, spec.to)
      const once = async () => (await measureTcp(from, b.shell(to), to.address, seconds)).mbit
      record(spec, await bestReading(spec.specMbit, retries, once))
    }
  })
  return out
}

/** What one raw TCP measurement takes beyond its seconds: two processes to start in the peers. */
const TCP_OVERHEAD_SECONDS = 5

/**
 * Runs `work` while a measuring node in the first peer holds every daemon's probe floor (when daemons
 * run), so that their background probes do not share the links `work` measures. The node gives the
 * floor back when its stdin closes, or after `maxSeconds` if it never learns (a crashed CLI).
 */
async function holdingFloor(
  state: TestnetState,
  maxSeconds: number,
  work: () => Promise<void>,
): Promise<void> {
  if (state.peers.some((p) => p.multiaddr === undefined)) return work()
  const b = backendFor(state.backend)
  const request = { daemons: state.peers.map((p) => p.multiaddr!), seconds: Math.ceil(maxSeconds) }
  const argv = [
    ...b.shell(state.peers[0]).prefix,
    ...b.script('mesh-tool-main.ts'),
    'hold',
    JSON.stringify(request),
  ]
  const holder = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  holder.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000)
  })
  const exited = new Promise<number | null>((resolve) => holder.on('close', resolve))
  try {
    const lines = createInterface({ input: holder.stdout })
    const held = await Promise.race([
      (async () => {
        for await (const line of lines) if (line.startsWith('{"held":true')) return true
        return false
      })(),
      exited.then(() => false),
    ])
    if (!held)
      throw new MeasureError(
        `the measuring node could not hold the probe floor: ${stderr.trim().slice(-2000)}`,
      )
    await work()
  } finally {
    holder.stdin.end()
    await exited
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10

/** Every pair through the daemons, from one measuring node in the first peer; `onLink(k, mbit)` per pair. */
async function probeOnFloor(
  state: TestnetState,
  pairs: LinkSpec[],
  seconds: number,
  retries: number,
  onLink: (k: number, mbit: number) => void,
): Promise<void> {
  const missing = state.peers.find((p) => p.multiaddr === undefined)
  if (missing !== undefined) throw new MeasureError(`${missing.name} runs no daemon to probe`)
  const address = (name: string) => findPeer(state, name).multiaddr!
  const links: LinkTask[] = pairs.map((p) => ({
    from: address(p.from),
    to: address(p.to),
    specMbit: p.specMbit,
  }))
  const request = { seconds, retries, daemons: state.peers.map((p) => p.multiaddr!), links }
  let k = 0
  await onPeer(state, state.peers[0], 'mesh-tool-main.ts', ['links', JSON.stringify(request)], (line) => {
    const figures = line as LinkFigures
    if (k >= pairs.length || figures.from !== links[k].from || figures.to !== links[k].to) {
      throw new MeasureError(`the measuring node answered ${JSON.stringify(line)} for link ${k}`)
    }
    onLink(k++, figures.mbit)
  })
  if (k < pairs.length)
    throw new MeasureError(`the measuring node stopped after ${k} of ${pairs.length} links`)
}

/** One tensor that went to a daemon on the echo job and came back intact. */
export interface EchoResult {
  from: string
  to: string
  bytes: number
  seconds: number
}

/** Every peer sends `bytes` to every other peer's daemon and gets it back (a tensor exchange over the mesh). */
export async function exchangeAll(
  state: TestnetState,
  bytes: number,
  onEcho?: (r: EchoResult) => void,
): Promise<EchoResult[]> {
  const missing = state.peers.filter((p) => p.multiaddr === undefined)
  if (missing.length > 0) throw new MeasureError(`no daemon runs on ${missing.map((p) => p.name).join(', ')}`)
  const out: EchoResult[] = []
  for (const from of state.peers) {
    const others = state.peers.filter((p) => p !== from)
    let k = 0
    const args = ['echo', String(bytes), ...others.map((p) => p.multiaddr!)]
    await onPeer(state, from, 'mesh-tool-main.ts', args, (line) => {
      const { seconds } = line as { seconds: number }
      if (k >= others.length) throw new MeasureError(`${from.name} reported more echoes than it sent`)
      const r = { from: from.name, to: others[k++].name, bytes, seconds: Math.round(seconds * 1000) / 1000 }
      onEcho?.(r)
      out.push(r)
    })
  }
  return out
}
