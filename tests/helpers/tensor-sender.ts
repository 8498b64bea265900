/**
 * Sends one tensor to a peer and exits; for the test that kills a sender mid-transfer.
 * Usage: node tensor-sender.ts ADDR BYTES RATE_BYTES_PER_S EDGE JOB
 */
import { AtollMesh, createNode, multiaddr } from '../../packages/net/src/index.ts'

const [addr, bytes, rate, edge, job] = process.argv.slice(2)
const mesh = new AtollMesh(await createNode({ listen: ['/ip4/127.0.0.1/tcp/0'], webrtc: false }))
await mesh.start()
const target = multiaddr(addr)
const conn = await mesh.node.dial(target)
mesh.links.set(conn.remotePeer.toString(), { rateBytesPerSecond: Number(rate) })
const n = Number(bytes)
console.log('sending')
await mesh.tensors.send(
  conn.remotePeer,
  { job, step: 0, mb: 0, edge, dtype: 'uint8', shape: [n], codec: 'raw', codecMeta: {} },
  new Uint8Array(n).fill(7),
)
console.log('sent')
await mesh.stop(0)
