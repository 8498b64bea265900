/**
 * What `atoll peers` does: asks a running daemon (by address, or through the state file in its data
 * directory) for the peers it knows, from a throwaway node with a fresh identity.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { AtollMesh, createNode, multiaddr } from '@atoll/net'
import { STATE_FILE } from './daemon.ts'
import { PeerConfigError } from './errors.ts'
import { type PeersAnswer, peersMethod } from './rpc.ts'

/** Addresses of the daemon running with `dataDir`, from its state file. */
export function daemonAddresses(dataDir: string): string[] {
  const path = join(dataDir, STATE_FILE)
  let state: unknown
  try {
    state = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new PeerConfigError(
      `no running peer found through ${path} (${(err as Error).message}); pass its address`,
    )
  }
  const { listen, addresses } = state as { listen?: unknown; addresses?: unknown }
  const addrs = [listen, addresses].flatMap((list) => (Array.isArray(list) ? list : []))
  if (addrs.length === 0 || addrs.some((a) => typeof a !== 'string')) {
    throw new PeerConfigError(`${path} has no address list`)
  }
  return addrs as string[]
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
