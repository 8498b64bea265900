import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestnetBackend, UpOptions } from './backend.ts'
import { allowFlags, makeCoordinator } from './coordinator.ts'
import { peerDaemonArgv, readLogFile, startDaemons, startDetached } from './daemons.ts'
import { assignPeerIds, latencyFlags } from './latency.ts'
import { localTcpTool } from './measure.ts'
import { clashingNamespaces, createNetwork, destroyNetwork, isAlive, testnetNamespaces } from './netns.ts'
import { TestnetAlreadyUpError } from './errors.ts'
import { requireRoot } from './sh.ts'
import {
  backendPlan,
  coordinatorDir,
  type PeerState,
  plannedPeers,
  sharedDir,
  stateDir,
  type TestnetState,
  writeState,
} from './state.ts'
import type { Topology } from './topology.ts'

/** The atoll CLI of this checkout, which the daemons in the namespaces run. */
export const cliMain = fileURLToPath(new URL('../../cli/src/main.ts', import.meta.url))
const cli = [process.execPath, cliMain]
/** A namespace shares this machine's file system: each daemon keeps its identity here. */
const dataDir = (peer: PeerState) => join(stateDir(), peer.name)
const inNamespace = (peer: PeerState) => ['ip', 'netns', 'exec', peer.ns]

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
  mkdirSync(sharedDir(), { recursive: true })
  if (options.startPeers) {
    options.log?.('starting `atoll peer` in each namespace')
    await assignPeerIds(peers, dataDir)
    state.coordinator = await makeCoordinator()
    const allow = allowFlags([state.coordinator, ...(options.allow ?? [])])
    await startDaemons(
      peers,
      {
        launch: (peer, argv) => {
          peer.pid = startDetached([...inNamespace(peer), ...argv], peer.log, {
            ...process.env,
            ATOLL_TESTNET_PEER: peer.name,
          })
        },
        isAlive: (peer) => isAlive(peer.pid),
        readLog: (peer) => readLogFile(peer.log),
        argv: (peer, bootstrap) =>
          peerDaemonArgv(cli, peer, bootstrap, {
            dataDir: dataDir(peer),
            extra: [...latencyFlags(topology, peer, peers), ...allow, ...(options.daemonFlags ?? [])],
          }),
      },
      options.order,
    )
    writeState(state)
  }
  return state
}

export const namespaceBackend: TestnetBackend = {
  up,
  down: () => destroyNetwork(),
  leftovers: testnetNamespaces,
  shell: (peer) => ({ prefix: inNamespace(peer), tcpTool: localTcpTool }),
  // `ip netns exec` passes its environment on
  exec: (peer, command, env) => ({ argv: [...inNamespace(peer), ...command], env }),
  script: (name) => [process.execPath, fileURLToPath(new URL(`./${name}`, import.meta.url))],
  logCommand: (peer) => ['cat', peer.log],
  cli,
  peerDirs: (peer) => ({ coordinator: coordinatorDir(), dataDir: dataDir(peer) }),
}
