import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestnetBackend, UpOptions } from './backend.ts'
import { peerDaemonArgv, readLogFile, startDaemons, startDetached } from './daemons.ts'
import { localTcpTool } from './measure.ts'
import { clashingNamespaces, createNetwork, destroyNetwork, isAlive, testnetNamespaces } from './netns.ts'
import { TestnetAlreadyUpError } from './errors.ts'
import { type NetPlan, planNetwork } from './plan.ts'
import { requireRoot } from './sh.ts'
import { logPath, type PeerState, stateDir, type TestnetState, writeState } from './state.ts'
import type { Topology } from './topology.ts'

/** The atoll CLI of this checkout, which the daemons in the namespaces run. */
export const cliMain = fileURLToPath(new URL('../../cli/src/main.ts', import.meta.url))

/**
 * The one-way latency to each other site, for @atoll/net's userspace delay (the kernel has no netem):
 * `10.77.2.0/24=40,10.77.3.0/24=90`, passed to each daemon as ATOLL_TESTNET_LATENCY.
 */
export function latencyEnv(plan: NetPlan, siteIndex: number): string {
  const here = plan.sites[siteIndex]
  return plan.topology.links
    .filter((l) => (l.latencyMs ?? 0) > 0 && l.sites.includes(here.name))
    .map((l) => {
      const other = plan.sites.find((s) => s.name === (l.sites[0] === here.name ? l.sites[1] : l.sites[0]))!
      return `${other.subnet}=${l.latencyMs}`
    })
    .join(',')
}

async function up(topology: Topology, options: UpOptions): Promise<TestnetState> {
  requireRoot()
  const plan = planNetwork(topology)
  const clash = clashingNamespaces(plan)
  if (clash.length > 0)
    throw new TestnetAlreadyUpError(`namespaces ${clash.join(', ')} exist already (not this testnet's)`)
  options.log?.(
    `creating ${plan.peers.length} peer namespaces, ${plan.sites.length} site bridges and the router`,
  )
  createNetwork(plan)
  const peers: PeerState[] = plan.peers.map((p) => ({
    name: p.name,
    site: p.site,
    ns: p.ns,
    address: p.address,
    log: logPath(p.name),
  }))
  const state: TestnetState = { backend: 'netns', topology, startedAt: new Date().toISOString(), peers }
  writeState(state)
  if (options.startPeers) {
    options.log?.('starting `atoll peer` in each namespace')
    const bySite = new Map(plan.peers.map((p) => [p.name, p.siteIndex]))
    await startDaemons(peers, {
      launch: (peer, argv) => {
        peer.pid = startDetached(['ip', 'netns', 'exec', peer.ns, ...argv], peer.log, {
          ...process.env,
          ATOLL_TESTNET_PEER: peer.name,
          ATOLL_TESTNET_LATENCY: latencyEnv(plan, bySite.get(peer.name)!),
        })
      },
      isAlive: (peer) => isAlive(peer.pid),
      readLog: (peer) => readLogFile(peer.log),
      argv: (peer, bootstrap) =>
        peerDaemonArgv([process.execPath, cliMain], peer, bootstrap, join(stateDir(), peer.name)),
    })
    writeState(state)
  }
  return state
}

export const namespaceBackend: TestnetBackend = {
  up,
  down: () => destroyNetwork(),
  leftovers: testnetNamespaces,
  shell: (peer) => ({ prefix: ['ip', 'netns', 'exec', peer.ns], tcpTool: localTcpTool }),
  script: (name) => [process.execPath, fileURLToPath(new URL(`./${name}`, import.meta.url))],
  logCommand: (peer) => ['cat', peer.log],
}
