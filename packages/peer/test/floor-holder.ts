/**
 * A measuring node in its own process, for membership.test.ts to kill mid-probe: `node floor-holder.ts
 * LEASE_MS DAEMON` takes the daemon's probe floor (with priority) for LEASE_MS and renews it every
 * third of that, prints `{"held":true}`, then, for each peer id read from stdin, prints
 * `{"probing":…}` and has the daemon probe that peer.
 */
import { createInterface } from 'node:readline'
import { AtollMesh, createNode, multiaddr, probeRunMethod } from '@atoll/net'

const [leaseMs, daemon] = process.argv.slice(2)
const mesh = new AtollMesh(await createNode({ listen: ['/ip4/127.0.0.1/tcp/0'], webrtc: false }))
await mesh.start()
const floor = await mesh.floor.acquire([multiaddr(daemon)], Number(leaseMs), {
  priority: true,
  waitMs: 10_000,
})
if (floor === undefined) throw new Error(`${daemon} did not grant its probe floor`)
const renewal = setInterval(() => void floor.extend(Number(leaseMs)), Number(leaseMs) / 3)
floor.signal.addEventListener('abort', () => clearInterval(renewal))
console.log(JSON.stringify({ held: true }))
for await (const target of createInterface({ input: process.stdin })) {
  console.log(JSON.stringify({ probing: target }))
  await mesh.ctrl.call(multiaddr(daemon), probeRunMethod, { target, seconds: 5 }, { timeoutMs: 15_000 })
}
