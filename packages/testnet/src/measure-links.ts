import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { MeasureError } from './errors.ts'
import { type LinkSpec, measurementPairs } from './links.ts'
import { measureTcp } from './measure.ts'
import { planNetwork } from './plan.ts'
import type { PeerState, TestnetState } from './state.ts'
import { backendFor, findPeer } from './testnet.ts'

const execFileAsync = promisify(execFile)

/** One measured link, in the shape `status --measure --json` writes. */
export interface MeasuredLink {
  from: string
  to: string
  spec_mbit: number
  measured_mbit: number
  /** What measured it: `/atoll/probe/1` between the daemons, or raw TCP when no daemon runs. */
  via: 'probe' | 'tcp'
}

/** Runs a script of this package inside `peer` and returns its stdout lines parsed as JSON. */
async function onPeer<T>(state: TestnetState, peer: PeerState, script: string, args: string[]): Promise<T[]> {
  const b = backendFor(state.backend)
  const argv = [...b.shell(peer).prefix, ...b.script(script), ...args]
  try {
    const { stdout } = await execFileAsync(argv[0], argv.slice(1), { maxBuffer: 16 << 20 })
    return stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as T)
  } catch (err) {
    const e = err as Error & { stderr?: string }
    throw new MeasureError(`${script} on ${peer.name} failed: ${(e.stderr ?? e.message).trim().slice(-2000)}`)
  }
}

/**
 * Measures every pair that `measurementPairs` picks, one at a time (measurements at once would share
 * the two CPU cores and the router, and each would see less than its link gives). With daemons up it
 * probes them with `/atoll/probe/1` from a node in the sender's namespace; without, it uses raw TCP.
 */
export async function measureLinks(
  state: TestnetState,
  options: {
    seconds?: number
    via?: 'probe' | 'tcp'
    /**
     * Measure a link again, up to this many times, while it reads more than 10% under its spec, and
     * keep the highest reading: the shaping is a ceiling, and a busy CPU can only make a reading low.
     */
    retries?: number
    onLink?: (l: MeasuredLink) => void
  } = {},
): Promise<MeasuredLink[]> {
  const seconds = options.seconds ?? 1.5
  const via = options.via ?? (state.peers.every((p) => p.multiaddr !== undefined) ? 'probe' : 'tcp')
  const out: MeasuredLink[] = []
  const pairs = measurementPairs(planNetwork(state.topology))
  const batched = via === 'probe' ? await probeBySender(state, pairs, seconds) : new Map<string, number>()
  for (const spec of pairs) {
    const from = findPeer(state, spec.from)
    const to = findPeer(state, spec.to)
    let mbit = batched.get(`${spec.from}>${spec.to}`) ?? (await measureOnce(state, from, to, via, seconds))
    for (let k = 0; k < (options.retries ?? 0) && mbit < spec.specMbit * SHORT_READING; k++) {
      mbit = Math.max(mbit, await measureOnce(state, from, to, via, seconds))
    }
    const link = {
      from: spec.from,
      to: spec.to,
      spec_mbit: spec.specMbit,
      measured_mbit: Math.round(mbit * 10) / 10,
      via,
    }
    options.onLink?.(link)
    out.push(link)
  }
  return out
}

/** A reading under this share of the spec is worth a retry. */
const SHORT_READING = 0.9

async function measureOnce(
  state: TestnetState,
  from: PeerState,
  to: PeerState,
  via: 'probe' | 'tcp',
  seconds: number,
): Promise<number> {
  if (via === 'tcp') {
    const b = backendFor(state.backend)
    return (await measureTcp(b.shell(from), b.shell(to), to.address, seconds)).mbit
  }
  return (await probeFrom(state, from, [to], seconds))[0]
}

/** Probes `targets` one after the other from one node on `from` (one process start, not one each). */
async function probeFrom(
  state: TestnetState,
  from: PeerState,
  targets: PeerState[],
  seconds: number,
): Promise<number[]> {
  const missing = targets.find((t) => t.multiaddr === undefined)
  if (missing !== undefined) throw new MeasureError(`${missing.name} runs no daemon to probe`)
  const lines = await onPeer<{ mbit: number }>(state, from, 'mesh-tool-main.ts', [
    'probe',
    String(seconds),
    ...targets.map((t) => t.multiaddr!),
  ])
  return lines.map((l) => l.mbit)
}

/** First readings of every pair, batched by sender; keyed `from>to`. */
async function probeBySender(
  state: TestnetState,
  pairs: LinkSpec[],
  seconds: number,
): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  for (const sender of new Set(pairs.map((p) => p.from))) {
    const targets = pairs.filter((p) => p.from === sender).map((p) => findPeer(state, p.to))
    const readings = await probeFrom(state, findPeer(state, sender), targets, seconds)
    for (const [k, t] of targets.entries()) out.set(`${sender}>${t.name}`, readings[k])
  }
  return out
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
    const lines = await onPeer<{ target: string; seconds: number }>(state, from, 'mesh-tool-main.ts', [
      'echo',
      String(bytes),
      ...others.map((p) => p.multiaddr!),
    ])
    lines.forEach((l, k) => {
      const r = { from: from.name, to: others[k].name, bytes, seconds: Math.round(l.seconds * 1000) / 1000 }
      onEcho?.(r)
      out.push(r)
    })
  }
  return out
}
