import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestnetBackend, UpOptions } from './backend.ts'
import { peerDaemonArgv, readLogFile, startDaemons, startDetached } from './daemons.ts'
import { assignPeerIds, latencyFlags } from './latency.ts'
import { localTcpTool } from './measure.ts'
import { clashingNamespaces, createNetwork, destroyNetwork, isAlive, testnetNamespaces } from './netns.ts'
import { TestnetAlreadyUpError } from './errors.ts'
import { requireRoot } from './sh.ts'
import {
  backendPlan,
  type PeerState,
  plannedPeers,
  stateDir,
  type TestnetState,
  writeState,
} from './state.ts'
import type { Topology } from './topology.ts'

/** The atoll CLI of this checkout, which the daemons in the namespaces run. */
export const cliMain = fileURLToPath(new URL('../../cli/src/main.ts', import.meta.url))

async function up(topology: Topology, options: UpOptions): Promise<TestnetState> {
  requireRoot()
  const plan = backendPlan(topology, 'netns')
  const clash = clashingNamespaces(plan)
  if (clash.length > 0)
    throw new TestnetAlreadyUpError(`namespaces ${clash.join(', ')} exist already (not this testnet's)`)
  options.log?.(
    `creating ${plan.peers.length} peer namespaces, ${plan.sites.length} site bridges and the router`,
  )
  createNetwork(plan)
  const peers = plannedPeers(plan, 'netns')
  const state: TestnetState = { backend: 'netns', topology, startedAt: new Date().toISOString(), peers }
  writeState(state)
  if (options.startPeers) {
    options.log?.('starting `atoll peer` in each namespace')
    const dataDir = (peer: PeerState) => join(stateDir(), peer.name)
    await assignPeerIds(peers, dataDir)
    await startDaemons(peers, {
      launch: (peer, argv) => {
        peer.pid = startDetached(['ip', 'netns', 'exec', peer.ns, ...argv], peer.log, {
          ...process.env,
          ATOLL_TESTNET_PEER: peer.name,
        })
      },
      isAlive: (peer) => isAlive(peer.pid),
      readLog: (peer) => readLogFile(peer.log),
      argv: (peer, bootstrap) =>
        peerDaemonArgv([process.execPath, cliMain], peer, bootstrap, {
          dataDir: dataDir(peer),
          extra: latencyFlags(topology, peer, peers),
        }),
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
