/**
 * What `status --measure` and `exchange` run on a peer, through Atoll's own protocols: a throwaway
 * libp2p node (in a peer's namespace or container, so it crosses the same shaped links as the daemons)
 * that has the daemons probe each other with `/atoll/probe/1` while it holds their probe floor, or sends
 * them tensors on the echo job and waits for them to come back over `/atoll/tensor/1`.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { AtollMesh, createNode, type FloorHold, multiaddr, probeRunMethod } from '@atoll/net'
import { MeasureError } from './errors.ts'
import { bestReading } from './links.ts'

/** One link to measure: the daemons at either end (multiaddrs) and the rate its shaping gives. */
export interface LinkTask {
  from: string
  to: string
  specMbit: number
}

export interface LinkFigures extends LinkTask {
  /** The highest of the readings (see `bestReading`). */
  mbit: number
  /** The first reading, before any retry: one probe, as the daemons' own background probes are. */
  firstMbit: number
  rttMs: number
}

export interface EchoFigures {
  target: string
  bytes: number
  /** From the start of the send to the echo's arrival. */
  seconds: number
}

/**
 * The lease on the daemons' floors, renewed before each link: long enough for the longest probe
 * (`MAX_RUN_SECONDS` plus its round trips), short enough that a killed measurement frees them soon.
 */
const LINK_LEASE_MS = 30_000
/** The daemons finish the probe in hand first; a floor still taken after this is a stuck mesh. */
const FLOOR_WAIT_MS = 30_000
/** The sender's daemon answers within its ctrl timeout (10 s by default); this waits a little longer. */
const RUN_TIMEOUT_MS = 15_000

async function withMesh<T>(work: (mesh: AtollMesh) => Promise<T>): Promise<T> {
  const mesh = new AtollMesh(await createNode({ listen: ['/ip4/0.0.0.0/tcp/0'], webrtc: false }))
  await mesh.start()
  try {
    return await work(mesh)
  } finally {
    await mesh.stop(0)
  }
}

/**
 * Runs `work` while this node holds the probe floor of every daemon in `daemons` (with priority), and
 * gives it back when `work` ends. `work`'s signal aborts when the hold ends early (a refused renewal)
 * or `cancel` aborts (the CLI went away); `work` must then stop.
 */
async function onFloor<T>(
  mesh: AtollMesh,
  daemons: string[],
  cancel: AbortSignal,
  work: (floor: FloorHold, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const peers = daemons.map((d) => multiaddr(d))
  const options = { priority: true, waitMs: FLOOR_WAIT_MS, signal: cancel }
  const floor = await mesh.floor.acquire(peers, LINK_LEASE_MS, options)
  if (floor === undefined) {
    cancel.throwIfAborted()
    throw new MeasureError(`the daemons did not all grant the probe floor within ${FLOOR_WAIT_MS / 1000} s`)
  }
  try {
    return await work(floor, AbortSignal.any([floor.signal, cancel]))
  } finally {
    await floor.release()
  }
}

/**
 * Holds the probe floor of every daemon in `daemons` and has each link's sending daemon probe its
 * receiving one (`atoll.probe.run`), one link at a time: the reading crosses the path the scheduler's
 * numbers come from, emulated latency included, and no background probe overlaps it. A reading more
 * than 10% under its spec is measured again, up to `retries` times (see `bestReading`). Stops, giving
 * the floor back, when `cancel` aborts; fails with the ProbeFloorError when a daemon would not renew
 * its floor.
 */
export function measureOnFloor(
  daemons: string[],
  links: LinkTask[],
  options: { seconds: number; retries: number; cancel: AbortSignal; onLink: (figures: LinkFigures) => void },
): Promise<void> {
  return withMesh((mesh) =>
    onFloor(mesh, daemons, options.cancel, async (floor, signal) => {
      for (const link of links) {
        let rttMs = 0
        let firstMbit: number | undefined
        const mbit = await bestReading(link.specMbit, options.retries, async () => {
          await floor.extend(LINK_LEASE_MS)
          const params = { target: link.to, seconds: options.seconds }
          const call = { timeoutMs: RUN_TIMEOUT_MS, signal }
          const r = await mesh.ctrl.call(multiaddr(link.from), probeRunMethod, params, call).catch((err) => {
            throw signal.aborted ? signal.reason : err
          })
          rttMs = r.rttMs
          firstMbit ??= (r.bytesPerSecond * 8) / 1e6
          return (r.bytesPerSecond * 8) / 1e6
        })
        options.onLink({ ...link, mbit, firstMbit: firstMbit ?? mbit, rttMs })
      }
    }),
  )
}

/**
 * Holds the probe floor of every daemon in `daemons` while another tool measures (raw TCP), so that
 * no background probe shares a link with it: `onHeld` once the floor is held, then renewed until
 * `done` resolves, `cancel` aborts or `maxSeconds` pass, then given back. A refused renewal fails it
 * (its ProbeFloorError), which tells the tool that its readings are no longer alone on the links.
 */
export function holdFloor(
  daemons: string[],
  options: { maxSeconds: number; done: Promise<void>; cancel: AbortSignal; onHeld: () => void },
): Promise<void> {
  return withMesh((mesh) =>
    onFloor(mesh, daemons, options.cancel, async (floor, signal) => {
      options.onHeld()
      const until = Date.now() + options.maxSeconds * 1000
      let finished = false
      const stop = options.done.then(() => {
        finished = true
      })
      while (!finished && !options.cancel.aborted && Date.now() < until) {
        const renewal = Math.max(0, Math.min(LINK_LEASE_MS / 2, until - Date.now()))
        await Promise.race([stop, sleep(renewal, undefined, { signal }).catch(() => {})])
        if (!finished && !options.cancel.aborted) await floor.extend(LINK_LEASE_MS)
      }
    }),
  )
}

/** Sends `bytes` to each target on the echo job, one after the other, and waits for each echo. */
export function echoExchange(targets: string[], bytes: number, timeoutMs: number): Promise<EchoFigures[]> {
  return withMesh(async (mesh) => {
    // imported here: @atoll/peer brings onnxruntime, which the probe has no use for
    const { ECHO_JOB } = await import('@atoll/peer')
    const out: EchoFigures[] = []
    for (const [i, target] of targets.entries()) {
      const conn = await mesh.node.dial(multiaddr(target))
      const peer = conn.remotePeer.toString()
      const payload = new Uint8Array(bytes).fill(i + 1)
      const t0 = performance.now()
      const back = waitForEcho(mesh, peer, `echo-${i}`, payload, timeoutMs)
      await mesh.tensors.send(
        conn.remotePeer,
        {
          job: ECHO_JOB,
          step: 0,
          mb: 0,
          edge: `echo-${i}`,
          dtype: 'uint8',
          shape: [bytes],
          codec: 'raw',
          codecMeta: {},
        },
        payload,
      )
      await back
      out.push({ target, bytes, seconds: (performance.now() - t0) / 1000 })
    }
    return out
  })
}

function waitForEcho(
  mesh: AtollMesh,
  peer: string,
  edge: string,
  sent: Uint8Array,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error(`no echo from ${peer} within ${timeoutMs} ms`))
    }, timeoutMs)
    const off = mesh.tensors.onMessage((msg) => {
      if (msg.from !== peer || msg.header.edge !== edge) return
      clearTimeout(timer)
      off()
      const got = msg.payload
      const same = got.byteLength === sent.byteLength && got.every((v, k) => v === sent[k])
      if (same) resolve()
      else reject(new Error(`the echo from ${peer} differs from what was sent`))
    })
  })
}
