/**
 * The two processes of the `transport` suite. `receive`: a raw TCP sink and an Atoll mesh, printing
 * `{ ready: { tcpPort, peerId, libp2pPort } }` and running until stdin closes. `send JOB`: connects to
 * both, times raw TCP and tensor transfers of the same size, probes the link, prints `{ result }`.
 * Run directly by the suite (inside a network namespace for the shaped figures).
 */
import { createConnection, createServer, type Socket } from 'node:net'
import type { TensorHeader } from '@atoll/compress'
import { AtollMesh, createNode, multiaddr, type Stream } from '@atoll/net'

export interface SendJob {
  host: string
  tcpPort: number
  peerId: string
  libp2pPort: number
  bytes: number
  runs: number
  /** stripe counts to time; `0` means the transport's default */
  streams: number[]
  /** also time one stream into a receive buffer the receiver reuses (no fresh pages to fault in) */
  reusedBuffer?: boolean
  probe: boolean
}

export interface SendResult {
  tcpSeconds: number[]
  /** the same bytes pushed over one bare libp2p stream (the library default, no Atoll framing) */
  libp2pStreamSeconds: number[]
  /** by stripe count (as given in the job); `1-reused` for the reused receive buffer */
  tensorSeconds: Record<string, number[]>
  probe?: { rttMs: number; bytesPerSecond: number; seconds: number; bytes: number }
}

const HEADER = 8
const CHUNK = 1 << 20
/** A bare libp2p protocol for the library-default baseline: count bytes, answer one byte at the end. */
const SINK_PROTOCOL = '/atoll-bench/sink/1'

async function receive(): Promise<void> {
  const server = createServer((socket) => sink(socket))
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve))
  // tensors on the edge 'reused' land in one buffer, kept across messages as a training step would
  let reused: Uint8Array | undefined
  const allocate = (h: TensorHeader) => {
    if (h.edge !== 'reused') return new Uint8Array(h.bytes)
    if (reused?.byteLength !== h.bytes) reused = new Uint8Array(h.bytes)
    return reused
  }
  const mesh = new AtollMesh(await createNode({ listen: ['/ip4/0.0.0.0/tcp/0'], webrtc: false }), {
    tensor: { allocate },
  })
  await mesh.node.handle(SINK_PROTOCOL, (stream) => {
    let expected = -1
    stream.addEventListener('message', (evt) => {
      let n = evt.data.byteLength
      if (expected < 0) {
        // the 8-byte header leaves as one yamux frame, so the first event holds all of it
        const head = evt.data.subarray(0, HEADER)
        expected = Number(new DataView(head.buffer, head.byteOffset, HEADER).getBigUint64(0))
        n -= HEADER
      }
      expected -= n
      if (expected === 0) {
        expected = -1
        stream.send(new Uint8Array([1]))
      }
    })
  })
  await mesh.start()
  const libp2pPort = Number(mesh.node.getMultiaddrs()[0].toString().split('/tcp/')[1].split('/')[0])
  const tcpPort = (server.address() as { port: number }).port
  console.log(JSON.stringify({ ready: { tcpPort, peerId: mesh.peerId, libp2pPort } }))
  process.stdin.resume()
  await new Promise((resolve) => process.stdin.on('end', resolve))
  server.close()
  await mesh.stop(0)
}

/** Counts each message (8-byte length, then that many bytes) and answers one byte when it is complete. */
function sink(socket: Socket): void {
  let expected = -1
  let header = Buffer.alloc(0)
  socket.on('data', (data: Buffer) => {
    let chunk = data
    while (chunk.byteLength > 0) {
      if (expected < 0) {
        const need = HEADER - header.byteLength
        header = Buffer.concat([header, chunk.subarray(0, need)])
        chunk = chunk.subarray(need)
        if (header.byteLength < HEADER) return
        expected = Number(header.readBigUInt64BE(0))
        header = Buffer.alloc(0)
      }
      const take = Math.min(expected, chunk.byteLength)
      expected -= take
      chunk = chunk.subarray(take)
      if (expected === 0) {
        expected = -1
        socket.write(Buffer.from([1]))
      }
    }
  })
}

async function send(job: SendJob): Promise<SendResult> {
  const payload = new Uint8Array(job.bytes).fill(0x5a)
  const socket = createConnection({ host: job.host, port: job.tcpPort, noDelay: true })
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  const tcpSeconds = await timed(job.runs, () => tcpMessage(socket, payload))
  socket.destroy()

  const mesh = new AtollMesh(await createNode({ listen: ['/ip4/0.0.0.0/tcp/0'], webrtc: false }))
  await mesh.start()
  const peer = (await mesh.node.dial(multiaddr(`/ip4/${job.host}/tcp/${job.libp2pPort}/p2p/${job.peerId}`)))
    .remotePeer
  const fields = {
    job: 'bench',
    step: 0,
    mb: 0,
    edge: 'x',
    // float32 like activations, and 4× fewer elements than uint8 (the wire format caps elements at 2^28)
    dtype: 'float32' as const,
    shape: [job.bytes / 4],
    codec: 'raw' as const,
    codecMeta: {},
  }
  const sink = await mesh.node.dialProtocol(peer, SINK_PROTOCOL)
  const libp2pStreamSeconds = await timed(job.runs, () => streamMessage(sink, payload))
  const tensorSeconds: Record<string, number[]> = {}
  for (const streams of job.streams) {
    const options = streams > 0 ? { streams } : {}
    tensorSeconds[String(streams)] = await timed(job.runs, () =>
      mesh.tensors.send(peer, fields, payload, options),
    )
  }
  if (job.reusedBuffer) {
    const reusedFields = { ...fields, edge: 'reused' }
    tensorSeconds['1-reused'] = await timed(job.runs, () =>
      mesh.tensors.send(peer, reusedFields, payload, { streams: 1 }),
    )
  }
  const result: SendResult = { tcpSeconds, libp2pStreamSeconds, tensorSeconds }
  if (job.probe) {
    const p = await mesh.probe.probe(peer)
    result.probe = { rttMs: p.rttMs, bytesPerSecond: p.bytesPerSecond, seconds: p.seconds, bytes: p.bytes }
  }
  await mesh.stop(0)
  return result
}

/** One warm-up, then `runs` timed calls (seconds each). */
async function timed(runs: number, fn: () => Promise<void>): Promise<number[]> {
  await fn()
  const out: number[] = []
  for (let i = 0; i < runs; i++) {
    const t = performance.now()
    await fn()
    out.push((performance.now() - t) / 1000)
  }
  return out
}

async function tcpMessage(socket: Socket, payload: Uint8Array): Promise<void> {
  const ack = new Promise((resolve) => socket.once('data', resolve))
  const header = Buffer.alloc(HEADER)
  header.writeBigUInt64BE(BigInt(payload.byteLength))
  socket.write(header)
  for (let off = 0; off < payload.byteLength; off += CHUNK) {
    if (!socket.write(payload.subarray(off, off + CHUNK))) await new Promise((r) => socket.once('drain', r))
  }
  await ack
}

async function streamMessage(stream: Stream, payload: Uint8Array): Promise<void> {
  const ack = new Promise((resolve) => stream.addEventListener('message', resolve, { once: true }))
  const header = new Uint8Array(HEADER)
  new DataView(header.buffer).setBigUint64(0, BigInt(payload.byteLength))
  stream.send(header)
  for (let off = 0; off < payload.byteLength; off += CHUNK) {
    if (!stream.send(payload.subarray(off, off + CHUNK))) await stream.onDrain()
  }
  await ack
}

const [mode, arg] = process.argv.slice(2)
if (mode === 'receive') await receive()
else if (mode === 'send') console.log(JSON.stringify({ result: await send(JSON.parse(arg) as SendJob) }))
else {
  console.error('usage: transport-worker.ts receive | send JOB_JSON')
  process.exitCode = 2
}
