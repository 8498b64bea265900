import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describeValue, parseJson, parseWith } from '@atoll/core'
import * as z from 'zod/mini'
import { PEER_PORT } from './daemons.ts'
import { StateFileError, TestnetError, TopologyError } from './errors.ts'
import { type Addressing, DOCKER_ADDRESSING, NETNS_ADDRESSING, type NetPlan, planNetwork } from './plan.ts'
import { MAX_PEERS, NAME, parseTopology, type Topology, testnetName, topologyDocument } from './topology.ts'

/**
 * Where the running testnet is described. /run is a tmpfs, so the state goes away at reboot exactly
 * like the namespaces it describes. ATOLL_TESTNET_DIR moves it (tests use their own).
 */
export function stateDir(): string {
  return process.env.ATOLL_TESTNET_DIR ?? '/run/atoll-testnet'
}

const backend = z.enum(['netns', 'docker'])
export type Backend = z.infer<typeof backend>

const text = z.string().check(z.maxLength(4096))
/** A libp2p peer id as the daemons print it (base58btc); it reaches `--emulate-link` flags. */
const PEER_ID = /^[1-9A-HJ-NP-Za-km-z]{1,128}$/
const peerId = z.string().check(z.regex(PEER_ID, { error: `a libp2p peer id (${PEER_ID})` }))

/**
 * One peer as `up` records it. The schema bounds each field; `checkPeers` then requires what follows
 * from the topology and the backend (name, site, ns, address, log) to be exactly that, because `down`
 * runs as root: the name reaches `rm -r`, the ns `ip` and `docker` command lines.
 */
const peerState = z.object({
  name: testnetName,
  site: testnetName,
  /** Namespace (netns backend) or container name (docker backend). */
  ns: text,
  address: z.ipv4({ error: 'an IPv4 address' }),
  /** The `atoll peer` process (netns backend), when one was started. `down` signals it: 0 and -1
   * would reach whole process groups, 1 is init. */
  pid: z.optional(z.int().check(z.gte(2))),
  /** The daemon's peer id, fixed before it starts (its identity is created first). */
  peerId: z.optional(peerId),
  /** The peer's libp2p multiaddr, once known. */
  multiaddr: z.optional(text),
  log: text,
})
export type PeerState = z.infer<typeof peerState>

/** What `writeState` writes; the topology is in its file form and is checked as a topology file is. */
const stateFile = z.object({
  backend,
  topology: z.unknown(),
  startedAt: text,
  peers: z.array(peerState).check(z.maxLength(MAX_PEERS)),
  /** The peer id of the testnet's coordinator key, which every daemon allows (when daemons run). */
  coordinator: z.optional(peerId),
})
/** The running testnet: the state file's fields, its topology parsed. */
export type TestnetState = Omit<z.infer<typeof stateFile>, 'topology'> & { topology: Topology }

const statePath = () => join(stateDir(), 'state.json')

export function logPath(peer: string): string {
  return join(stateDir(), `${peer}.log`)
}

/** The testnet coordinator's key (coordinator.ts); `coordinator` is no peer's name (topology.ts). */
export function coordinatorDir(): string {
  return join(stateDir(), 'coordinator')
}

/**
 * A folder for the user's files (job files, what `atoll train` writes): the same folder, at the same
 * path, on this machine and in every peer (a namespace shares the file system; a container mounts it).
 * `down` leaves it. `shared` is no peer's name (topology.ts).
 */
export function sharedDir(): string {
  return resolve(stateDir(), 'shared')
}

const ADDRESSING: Record<Backend, Addressing> = { netns: NETNS_ADDRESSING, docker: DOCKER_ADDRESSING }

/** The namespaces (or containers) and addresses that `backend` gives the peers of `topology`. */
export function backendPlan(topology: Topology, backend: Backend): NetPlan {
  return planNetwork(topology, ADDRESSING[backend])
}

/** What `up` records of each peer before anything starts; all of it follows from the plan. */
export function plannedPeers(plan: NetPlan, backend: Backend): PeerState[] {
  return plan.peers.map((p) => ({
    name: p.name,
    site: p.site,
    ns: p.ns,
    address: p.address,
    // a container's output is kept by docker, not in a file
    log: backend === 'netns' ? logPath(p.name) : `docker logs ${p.ns}`,
  }))
}

/**
 * The running testnet, or undefined when there is no state file. A file that is not JSON, not a
 * testnet's state, or whose peers are not its topology's as its backend names them, is a
 * StateFileError naming the file and the field; it is left as it is.
 */
export function readState(): TestnetState | undefined {
  const path = statePath()
  if (!existsSync(path)) return undefined
  const raw = parseJson(readFileSync(path, 'utf8'), path, StateFileError)
  const file = parseWith(stateFile, raw, (problem) => new StateFileError(`${path}: ${problem.message}`))
  const state = { ...file, topology: stateTopology(path, file.topology) }
  checkPeers(path, state)
  return state
}

function stateTopology(path: string, doc: unknown): Topology {
  try {
    return parseTopology(doc)
  } catch (err) {
    if (!(err instanceof TopologyError)) throw err
    throw new StateFileError(`${path}: topology${err.path === '' ? '' : `.${err.path}`}: ${err.detail}`)
  }
}

const refusal = (path: string, field: string, expected: string, found: unknown) =>
  new StateFileError(`${path}: ${field}: expected ${expected}, found ${describeValue(found)}`)

/** Every peer of the topology, once, each recorded as `plannedPeers` records it. */
function checkPeers(path: string, state: TestnetState): void {
  const planned = new Map(
    plannedPeers(backendPlan(state.topology, state.backend), state.backend).map((p) => [p.name, p]),
  )
  const names = [...planned.keys()].map((n) => JSON.stringify(n)).join(', ')
  const seen = new Set<string>()
  state.peers.forEach((peer, i) => {
    const field = (key: string) => `peers[${i}].${key}`
    const plan = planned.get(peer.name)
    if (plan === undefined)
      throw refusal(path, field('name'), `one of the topology's peers ${names}`, peer.name)
    if (seen.has(peer.name)) throw refusal(path, field('name'), 'a peer not listed before', peer.name)
    seen.add(peer.name)
    for (const key of ['site', 'ns', 'address', 'log'] as const) {
      if (peer[key] !== plan[key]) throw refusal(path, field(key), JSON.stringify(plan[key]), peer[key])
    }
    if (peer.multiaddr === undefined) return
    if (peer.peerId === undefined)
      throw refusal(path, field('peerId'), 'the peer id that the multiaddr ends in', undefined)
    // what the daemon was told to listen on, and its identity (daemons.ts)
    const multiaddr = `/ip4/${peer.address}/tcp/${PEER_PORT}/p2p/${peer.peerId}`
    if (peer.multiaddr !== multiaddr)
      throw refusal(path, field('multiaddr'), JSON.stringify(multiaddr), peer.multiaddr)
  })
  if (seen.size !== planned.size)
    throw refusal(path, 'peers', `the topology's ${planned.size} peers`, state.peers)
}

export function writeState(state: TestnetState): void {
  mkdirSync(stateDir(), { recursive: true })
  const file = { ...state, topology: topologyDocument(state.topology) }
  writeFileSync(statePath(), `${JSON.stringify(file, null, 2)}\n`)
}

/**
 * Removes the state file and what the testnet kept for `peers` (logs, daemon data directories) and
 * its coordinator key, and the state directory once empty (the shared folder, the user's, stays). Only what it made: ATOLL_TESTNET_DIR may point somewhere shared,
 * and `down` runs as root, so a name that is not a peer's name (`../x`) is refused before anything goes.
 */
export function clearState(peers: string[] = readState()?.peers.map((p) => p.name) ?? []): void {
  const bad = peers.find((peer) => !NAME.test(peer))
  if (bad !== undefined) throw new TestnetError(`not a peer name: ${JSON.stringify(bad)} (expected ${NAME})`)
  const dir = stateDir()
  for (const peer of peers) {
    rmSync(logPath(peer), { force: true })
    rmSync(join(dir, peer), { recursive: true, force: true })
  }
  rmSync(coordinatorDir(), { recursive: true, force: true })
  rmSync(statePath(), { force: true })
  try {
    rmdirSync(dir)
  } catch {
    // not empty (someone else's files) or already gone
  }
}
