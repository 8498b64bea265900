/**
 * The state file a running daemon keeps in its data directory: how `atoll peers` (and the testnets)
 * find it without an address. One module holds its name, its schema, and how it is written, read and
 * removed, so the daemon and its readers cannot drift apart.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseJson, parseWith } from '@atoll/core'
import * as z from 'zod/mini'
import { DaemonStateError, PeerConfigError } from './errors.ts'

/** Written to the data dir while the daemon runs. */
export const STATE_FILE = 'peer.json'

const text = z.string().check(z.maxLength(4096))

const daemonState = z.object({
  peerId: text,
  /** what other peers are told (the announced addresses, if any) */
  addresses: z.array(text),
  /** what a client on this machine can dial */
  listen: z.array(text),
  pid: z.int().check(z.gte(1)),
  metrics: z.optional(text),
})

export type DaemonState = z.infer<typeof daemonState>

/** Writes the state of the daemon running with `dataDir`, readable by its owner only. */
export function writeDaemonState(dataDir: string, state: DaemonState): void {
  writeFileSync(join(dataDir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 })
}

/** Removes the state file: the daemon has stopped. */
export function removeDaemonState(dataDir: string): void {
  rmSync(join(dataDir, STATE_FILE), { force: true })
}

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
