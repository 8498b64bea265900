import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import * as z from 'zod/mini'
import { type NetPlan, PEER_IF, PREFIX, type PeerPlan, ROUTER_NS, type SitePlan } from './plan.ts'
import { shapingCommands } from './shaping.ts'
import { parseOutput, run, tryRun } from './sh.ts'

/** Router bridges queue like a NIC: a bridge has no queue of its own, and an htb leaf would get none. */
const BRIDGE_TXQUEUELEN = '1000'

/**
 * Marks a namespace as the testnet's (the alias of its loopback), so that `down` finds them after a
 * crash without touching other `atoll-` namespaces on the machine (a benchmark's, say).
 */
export const NS_MARK = `${PREFIX}-testnet`

/** The testnet's namespaces that exist now: named `atoll-…` and marked, whoever made them. */
export function testnetNamespaces(): string[] {
  const out = tryRun(['ip', 'netns', 'list'])
  if (out.status !== 0) return []
  return out.stdout
    .split('\n')
    .map((line) => line.split(' ')[0])
    .filter((name) => name.startsWith(`${PREFIX}-`) && isMarked(name))
    .sort()
}

/** What `ip -j link show` says of an interface, as far as the testnet reads it. */
const ipLinks = z.array(z.object({ ifalias: z.optional(z.string()) }))

function isMarked(ns: string): boolean {
  const argv = ['ip', '-n', ns, '-j', 'link', 'show', 'lo']
  const r = tryRun(argv)
  return r.status === 0 && parseOutput(argv, r.stdout, ipLinks)[0]?.ifalias === NS_MARK
}

const ip = (ns: string, ...args: string[]) => run(['ip', '-n', ns, ...args])

/** A new namespace, marked as the testnet's straight away, with its loopback up. */
function addNamespace(ns: string): void {
  run(['ip', 'netns', 'add', ns])
  ip(ns, 'link', 'set', 'lo', 'alias', NS_MARK)
  ip(ns, 'link', 'set', 'lo', 'up')
}

function addRouter(sites: SitePlan[]): void {
  addNamespace(ROUTER_NS)
  run(['ip', 'netns', 'exec', ROUTER_NS, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'])
  for (const site of sites) {
    ip(ROUTER_NS, 'link', 'add', site.bridge, 'txqueuelen', BRIDGE_TXQUEUELEN, 'type', 'bridge')
    ip(ROUTER_NS, 'addr', 'add', `${site.gateway}/24`, 'dev', site.bridge)
    ip(ROUTER_NS, 'link', 'set', site.bridge, 'up')
  }
}

function addPeer(peer: PeerPlan, site: SitePlan): void {
  addNamespace(peer.ns)
  // Both ends are created straight inside their namespaces: nothing of the testnet touches the host's.
  run([
    'ip',
    'link',
    'add',
    PEER_IF,
    'netns',
    peer.ns,
    'type',
    'veth',
    'peer',
    'name',
    peer.port,
    'netns',
    ROUTER_NS,
  ])
  ip(ROUTER_NS, 'link', 'set', peer.port, 'master', site.bridge)
  ip(ROUTER_NS, 'link', 'set', peer.port, 'up')
  ip(peer.ns, 'addr', 'add', `${peer.address}/24`, 'dev', PEER_IF)
  ip(peer.ns, 'link', 'set', PEER_IF, 'up')
  ip(peer.ns, 'route', 'add', 'default', 'via', site.gateway)
}

/** Namespaces that `plan` would create and that exist already (marked or not): `up` must not reuse them. */
export function clashingNamespaces(plan: NetPlan): string[] {
  const existing = new Set(
    tryRun(['ip', 'netns', 'list'])
      .stdout.split('\n')
      .map((l) => l.split(' ')[0]),
  )
  return [ROUTER_NS, ...plan.peers.map((p) => p.ns)].filter((ns) => existing.has(ns))
}

/** Creates the namespaces, links and qdiscs of `plan`. On any failure it removes what it made. */
export function createNetwork(plan: NetPlan): void {
  try {
    addRouter(plan.sites)
    for (const peer of plan.peers) addPeer(peer, plan.sites[peer.siteIndex])
    for (const cmd of shapingCommands(plan)) run(['tc', '-n', cmd.ns!, ...cmd.args])
  } catch (err) {
    destroyNamespaces()
    throw err
  }
}

/** Processes running inside a namespace (the peer daemons, a measurement, an `exec`). */
function namespacePids(ns: string): number[] {
  const r = tryRun(['ip', 'netns', 'pids', ns])
  return r.stdout.split('\n').filter(Boolean).map(Number).filter(Number.isInteger)
}

/** Whether `pid` runs; a zombie (dead, not yet reaped by whoever adopted it) does not. */
export function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig)
    } catch {
      // already gone
    }
  }
}

/**
 * Ends every process inside the testnet's namespaces (TERM, then KILL after `graceMs`), then deletes
 * the namespaces, which takes their veths, bridges and qdiscs with them. Discovers by prefix, so it
 * also cleans up after a crash that left no state file. Returns the namespaces it removed.
 */
export async function destroyNetwork(graceMs = 2000): Promise<string[]> {
  const names = testnetNamespaces()
  const pids = names.flatMap(namespacePids)
  if (pids.length > 0) {
    signal(pids, 'SIGTERM')
    const deadline = Date.now() + graceMs
    while (Date.now() < deadline && names.flatMap(namespacePids).length > 0) await sleep(50)
    signal(names.flatMap(namespacePids), 'SIGKILL')
    while (pids.some(isAlive) && Date.now() < deadline + graceMs) await sleep(20)
  }
  return destroyNamespaces()
}

function destroyNamespaces(): string[] {
  const names = testnetNamespaces()
  for (const ns of names) tryRun(['ip', 'netns', 'del', ns])
  return names
}
