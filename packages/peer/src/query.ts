/**
 * What `atoll peers` does: asks a running daemon (by address, or through the state file in its data
 * directory) for the peers it knows, from a throwaway node with a fresh identity.
 */
import { join } from 'node:path'
import { AtollMesh, createNode, multiaddr } from '@atoll/net'
import { DaemonStateError, PeerConfigError } from './errors.ts'
import { type PeersAnswer, peersMethod } from './rpc.ts'
import { readDaemonState, STATE_FILE } from './state.ts'

/** Addresses of the daemon running with `dataDir`, from its state file: the local ones first. */
export function daemonAddresses(dataDir: string): string[] {
  const { listen, addresses } = readDaemonState(dataDir)
  const all = [...listen, ...addresses]
  if (all.length === 0) throw new DaemonStateError(`${join(dataDir, STATE_FILE)} lists no address`)
  return all
}

export async function queryPeers(addresses: string[], timeoutMs = 10_000): Promise<PeersAnswer> {
  const targets = addresses.map((a) => {
    try {
      return multiaddr(a)
    } catch (err) {
      throw new PeerConfigError(`'${a}' is not a multiaddr: ${(err as Error).message}`)
    }
  })
  // loopback first: the daemon is usually on this machine
  targets.sort(
    (a, b) => Number(!a.toString().includes('/127.0.0.1/')) - Number(!b.toString().includes('/127.0.0.1/')),
  )
  const node = await createNode({ listen: [], webrtc: false })
  const mesh = new AtollMesh(node)
  try {
    await node.start()
    return await mesh.ctrl.call(targets, peersMethod, {}, { timeoutMs })
  } finally {
    await node.stop()
  }
}
