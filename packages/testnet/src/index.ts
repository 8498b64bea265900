/**
 * Geo-distributed testnets on one machine. A topology (sites, their peers, rates inside and between
 * sites, per-peer access rates) is validated, planned into namespaces and addresses, and brought up
 * with kernel shaping (`tc` htb) in network namespaces or Docker containers. Without root, a loopback
 * mesh: `atoll peer` processes on 127.0.0.1 in sites, each daemon emulating its links (startLoopbackMesh).
 *
 * @example
 * ```ts
 * import { downTestnet, exchangeAll, loadTopology, measureLinks, upTestnet } from '@atoll/testnet'
 * // as root: 6 namespaces, shaped links, an `atoll peer` daemon in each
 * const state = await upTestnet(loadTopology('geo3'), 'netns', { startPeers: true })
 * for (const l of await measureLinks(state)) console.log(l.from, '→', l.to, l.spec_mbit, l.measured_mbit)
 * await exchangeAll(state, 1 << 20) // a 1 MiB tensor from every peer to every other and back
 * await downTestnet()
 * ```
 */
export type { PeerCommand, TestnetBackend, UpOptions } from './backend.ts'
export { BOOT_DIR, composeYaml } from './compose.ts'
export {
  bootstrapAddress,
  interfaceWith,
  peerContainerSetup,
  ROUTER_ROLE,
  routerContainerSetup,
} from './container.ts'
export { allowFlags, makeCoordinator, type PeerDirs, trainEnvironment } from './coordinator.ts'
export { LABEL as DOCKER_LABEL, dockerBackend } from './docker-backend.ts'
export { ensureImage, imageFingerprint } from './docker-build.ts'
export { DOCKERD_LOG, DOCKERD_PIDFILE, ensureDocker, startedDockerd } from './docker-engine.ts'
export { dependencyEntries, IMAGE_REPO, imageRepo } from './docker-image.ts'
export { PEER_PORT, peerDaemonArgv } from './daemons.ts'
export * from './errors.ts'
export { assignPeerIds, latencyFlags } from './latency.ts'
export { type LinkSpec, linkSpec, measurementPairs, siteLink } from './links.ts'
export { localTcpTool, MEASURE_PORT, measureTcp, type PeerShell } from './measure.ts'
export {
  clashingNamespaces,
  createNetwork,
  destroyNetwork,
  isAlive,
  NS_MARK,
  testnetNamespaces,
} from './netns.ts'
export {
  makeIdentities,
  type PeerIdentity,
  PeerProcesses,
  type RunningPeer,
  STOP_TIMEOUT_MS,
} from './loopback.ts'
export {
  emulatedLinks,
  type LinkRate,
  type LoopbackLayout,
  type LoopbackSite,
  type LoopbackStart,
  siteOf,
  startLoopbackMesh,
  waitForMembers,
} from './loopback-mesh.ts'
export { cliMain, namespaceBackend } from './netns-backend.ts'
export {
  type Addressing,
  DOCKER_ADDRESSING,
  NETNS_ADDRESSING,
  type NetPlan,
  PEER_IF,
  PREFIX,
  type PeerPlan,
  planNetwork,
  ROUTER_NS,
  type SitePlan,
} from './plan.ts'
export { shapingCommands, siteLinkShaping, type TcCommand, WIRE_PER_GOODPUT, wholeLink } from './shaping.ts'
export { isRoot, requireRoot } from './sh.ts'
export { formatRate, topologySvg } from './svg.ts'
export {
  type Backend,
  backendPlan,
  clearState,
  coordinatorDir,
  logPath,
  type PeerState,
  plannedPeers,
  readState,
  sharedDir,
  stateDir,
  type TestnetState,
  writeState,
} from './state.ts'
export {
  type EchoResult,
  exchangeAll,
  MAX_MEASURE_SECONDS,
  type MeasuredLink,
  measureLinks,
  measureVia,
} from './measure-links.ts'
export { backendFor, downTestnet, findPeer, peerCommand, requireState, upTestnet } from './testnet.ts'
export { DEFAULT_WARMUP_MS, receiveOnce, sendFor, type TcpResult } from './tcp-tool.ts'
export { loadTopology, parseTopologyText, presetDir, presetNames } from './topology-file.ts'
export {
  MAX_PEERS,
  parseTopology,
  topologyDocument,
  withPeersPerSite,
  type SiteLink,
  type Topology,
  type TopologyPeer,
  type TopologySite,
} from './topology.ts'
