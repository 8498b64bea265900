import { MAX_RUN_SECONDS } from '@atoll/net'
import { MeasureError } from './errors.ts'
import { bestReading, type LinkSpec, measurementPairs } from './links.ts'
import { measureTcp } from './measure.ts'
import type { LinkTask } from './mesh-tool.ts'
import { echoLine, holdingFloor, linkLine, onPeer } from './mesh-tool-run.ts'
import { planNetwork } from './plan.ts'
import type { TestnetState } from './state.ts'
import { backendFor, findPeer } from './testnet.ts'

/** One measured link, in the shape `status --measure --json` writes. */
export interface MeasuredLink {
  from: string
  to: string
  spec_mbit: number
  /** The highest reading, after up to `retries` more of a reading >10% under spec. */
  measured_mbit: number
  /**
   * The first reading, before any retry: what one probe reads, as each of the daemons' own background
   * probes (the figures `atoll peers` shows and a plan is made from) does; they are never retried.
   */
  first_mbit: number
  /** What measured it: `/atoll/probe/1` between the daemons, or raw TCP when no daemon runs. */
  via: 'probe' | 'tcp'
}

type Via = MeasuredLink['via']

/**
 * The longest `--seconds` a measurement takes, by what measures: a daemon probes for at most
 * MAX_RUN_SECONDS (its answer must come within the ctrl timeout); raw TCP has no such bound.
 */
export const MAX_MEASURE_SECONDS: Record<Via, number> = { probe: MAX_RUN_SECONDS, tcp: 30 }

/** What `measureLinks` measures with: raw TCP when asked for or when a peer runs no daemon, else probes. */
export function measureVia(state: TestnetState, tcp = false): Via {
  return tcp || state.peers.some((p) => p.multiaddr === undefined) ? 'tcp' : 'probe'
}

/**
 * Measures every pair that `measurementPairs` picks, one at a time (measurements at once would share
 * the two CPU cores and the router, and each would see less than its link gives). With daemons up the
 * daemons probe each other with `/atoll/probe/1` while a measuring node holds their probe floor (see
 * `measureViaDaemons`); without, raw TCP measures the shaping alone.
 */
export async function measureLinks(
  state: TestnetState,
  options: {
    /** Each measurement's budget (default 1.5), at most MAX_MEASURE_SECONDS[via]. */
    seconds?: number
    via?: Via
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
  const via = options.via ?? measureVia(state)
  const pairs = measurementPairs(planNetwork(state.topology))
  const out: MeasuredLink[] = []
  const record = (k: number, best: number, first: number) => {
    const { from, to, specMbit } = pairs[k]
    const link = {
      from,
      to,
      spec_mbit: specMbit,
      measured_mbit: round1(best),
      first_mbit: round1(first),
      via,
    }
    options.onLink?.(link)
    out.push(link)
  }
  const measure = via === 'probe' ? measureViaDaemons : measureViaTcp
  await measure(state, pairs, seconds, retries, record)
  return out
}

/** What one raw TCP measurement takes beyond its seconds: two processes to start in the peers. */
const TCP_OVERHEAD_SECONDS = 5

/** Every pair by raw TCP, holding the daemons' probe floor if they run; `onLink(k, best, first)` per pair. */
async function measureViaTcp(
  state: TestnetState,
  pairs: LinkSpec[],
  seconds: number,
  retries: number,
  onLink: (k: number, best: number, first: number) => void,
): Promise<void> {
  const b = backendFor(state.backend)
  const maxSeconds = pairs.length * (retries + 1) * (seconds + TCP_OVERHEAD_SECONDS)
  await holdingFloor(state, maxSeconds, async (floorLost) => {
    for (const [k, spec] of pairs.entries()) {
      const from = b.shell(findPeer(state, spec.from))
      const to = findPeer(state, spec.to)
      let first: number | undefined
      const once = async () => {
        const reading = (await measureTcp(from, b.shell(to), to.address, seconds)).mbit
        // a reading taken while a background probe may have shared the link is not kept
        floorLost.throwIfAborted()
        first ??= reading
        return reading
      }
      const best = await bestReading(spec.specMbit, retries, once)
      onLink(k, best, first ?? best)
    }
  })
}

const round1 = (x: number) => Math.round(x * 10) / 10

/**
 * Every pair through the daemons, from one measuring node in the first peer (mesh-tool's
 * `measureOnFloor`); `onLink(k, best, first)` per pair.
 */
async function measureViaDaemons(
  state: TestnetState,
  pairs: LinkSpec[],
  seconds: number,
  retries: number,
  onLink: (k: number, best: number, first: number) => void,
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
  const run = { script: 'mesh-tool-main.ts', args: ['links', JSON.stringify(request)], schema: linkLine }
  await onPeer(state, state.peers[0], run, (figures) => {
    if (k >= pairs.length || figures.from !== links[k].from || figures.to !== links[k].to) {
      throw new MeasureError(`the measuring node answered ${JSON.stringify(figures)} for link ${k}`)
    }
    onLink(k++, figures.mbit, figures.firstMbit)
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
    await onPeer(state, from, { script: 'mesh-tool-main.ts', args, schema: echoLine }, ({ seconds }) => {
      if (k >= others.length) throw new MeasureError(`${from.name} reported more echoes than it sent`)
      const r = { from: from.name, to: others[k++].name, bytes, seconds: Math.round(seconds * 1000) / 1000 }
      onEcho?.(r)
      out.push(r)
    })
  }
  return out
}
