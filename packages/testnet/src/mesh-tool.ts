/**
 * What `status --measure` and `exchange` run on a peer, through Atoll's own protocols: a throwaway
 * libp2p node (in the peer's namespace or container, so it crosses the same shaped links as the daemon)
 * that probes a daemon with `/atoll/probe/1`, or sends it tensors on the echo job and waits for them
 * to come back over `/atoll/tensor/1`.
 */
import { AtollMesh, createNode, multiaddr } from '@atoll/net'

export interface ProbeFigures {
  mbit: number
  rttMs: number
}

export interface EchoFigures {
  target: string
  bytes: number
  /** From the start of the send to the echo's arrival. */
  seconds: number
}

async function withMesh<T>(work: (mesh: AtollMesh) => Promise<T>): Promise<T> {
  const mesh = new AtollMesh(await createNode({ listen: ['/ip4/0.0.0.0/tcp/0'], webrtc: false }))
  await mesh.start()
  try {
    return await work(mesh)
  } finally {
    await mesh.stop(0)
  }
}

/** Probes each target in turn (never two at once: they would share the sender's upload). */
export function probeDaemons(targets: string[], seconds: number): Promise<ProbeFigures[]> {
  return withMesh(async (mesh) => {
    const out: ProbeFigures[] = []
    for (const target of targets) {
      const r = await mesh.probe.probe(multiaddr(target), { seconds })
      out.push({ mbit: (r.bytesPerSecond * 8) / 1e6, rttMs: r.rttMs })
    }
    return out
  })
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
