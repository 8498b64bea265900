/**
 * What `atoll peers` does: asks a running daemon (by address, or through the state file in its data
 * directory) for the peers it knows, from a throwaway node with a fresh identity.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseJson, parseWith } from '@atoll/core'
import { AtollMesh, createNode, multiaddr } from '@atoll/net'
import * as z from 'zod/mini'
import { STATE_FILE } from './daemon.ts'
import { DaemonStateError, PeerConfigError } from './errors.ts'
import { type PeersAnswer, peersMethod } from './rpc.ts'

const text = z.string().check(z.maxLength(4096))

/** What a running daemon writes to STATE_FILE in its data directory. */
export const daemonState = z.object({
  peerId: text,
  /** what other peers are told (the announced addresses, if any) */
  addresses: z.array(text),
  /** what a client on this machine can dial */
  listen: z.array(text),
  pid: z.int().check(z.gte(1)),
  metrics: z.optional(text),
})

export type DaemonState = z.infer<typeof daemonState>

/**
 * The state of the daemon running with `dataDir`. No file: PeerConfigError (no daemon runs there);
 * a file that is not JSON or not a daemon's state: DaemonStateError naming the file and the field.
 */
export function readDaemonState(dataDir: string): DaemonState {
  const path = join(dataDir, STATE_FILE)
  let content: string
  try {
    content = readFileSync(path, 'utf8')
  } catch (err) {
    throw new PeerConfigError(
      `no running peer found through ${path} (${(err as Error).message}); pass its address`,
    )
  }
  const raw = parseJson(content, path, DaemonStateError)
  return parseWith(daemonState, raw, (problem) => new DaemonStateError(`${path}: ${problem.message}`))
}

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
