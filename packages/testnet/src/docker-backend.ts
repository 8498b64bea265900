import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { TestnetBackend, UpOptions } from './backend.ts'
import { allowFlags, makeCoordinator } from './coordinator.ts'
import { ROUTER_ROLE, SHAPED_LINE } from './container.ts'
import { peerDaemonArgv, startDaemons } from './daemons.ts'
import { ensureImage } from './docker-build.ts'
import { assignPeerIds, latencyFlags } from './latency.ts'
import { ensureDocker } from './docker-engine.ts'
import { APP_DIR } from './docker-image.ts'
import { TestnetError } from './errors.ts'
import { DOCKER_ADDRESSING, type NetPlan, PREFIX } from './plan.ts'
import { requireRoot, run, tryRun } from './sh.ts'
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
import { type Topology, topologyDocument } from './topology.ts'

/** Every container and network of the Docker testnet carries this label; `down` finds them by it. */
export const LABEL = 'atoll.testnet'
const CLI = ['node', `${APP_DIR}/packages/cli/src/main.ts`]
/**
 * Each daemon's identity is made on the host first (so that the others can be told its peer id for
 * their latency flags) and copied into its container before it starts.
 */
const CONTAINER_DATA_DIR = '/atoll-peer'
const hostDataDir = (peer: PeerState) => join(stateDir(), peer.name)
/** The testnet coordinator's key, copied into each peer container beside the daemon's identity. */
const CONTAINER_COORDINATOR_DIR = '/atoll-coordinator'

/** A container that has not shaped its links by then has failed (its log says why). */
const SHAPE_TIMEOUT_MS = 30_000

const networkName = (site: string) => `${PREFIX}-${site}`

function createNetworks(plan: NetPlan): void {
  for (const site of plan.sites) {
    run([
      'docker',
      'network',
      'create',
      '--driver',
      'bridge',
      '--label',
      LABEL,
      '--subnet',
      site.subnet,
      '--gateway',
      `${DOCKER_ADDRESSING.base}.${site.index + 1}.1`,
      '-o',
      `com.docker.network.bridge.name=${PREFIX}-b${site.index}`,
      // No NAT to the outside: the containers talk to each other only (they also drop their default route).
      '-o',
      'com.docker.network.bridge.enable_ip_masquerade=false',
      networkName(site.name),
    ])
  }
}

/** `docker create` with the testnet's settings; the container shapes itself when it starts. */
function createContainer(
  image: string,
  topology: Topology,
  role: string,
  network: string,
  ip: string,
  command: string[],
  volumes: string[] = [],
): void {
  const name = role
  run([
    'docker',
    'create',
    '--name',
    `${PREFIX}-${name}`,
    '--hostname',
    name,
    '--label',
    LABEL,
    '--cap-add',
    'NET_ADMIN',
    '--sysctl',
    'net.ipv4.ip_forward=1',
    '--network',
    network,
    '--ip',
    ip,
    ...volumes.flatMap((v) => ['--volume', v]),
    '-e',
    `ATOLL_TESTNET_TOPOLOGY=${JSON.stringify(topologyDocument(topology))}`,
    '-e',
    `ATOLL_TESTNET_PEER=${role}`,
    image,
    // the image's entry point is container-main.ts; what follows `--` is what it runs once shaped
    ...(command.length > 0 ? ['--', ...command] : []),
  ])
}

function createRouter(image: string, plan: NetPlan): void {
  const [first, ...rest] = plan.sites
  createContainer(image, plan.topology, ROUTER_ROLE, networkName(first.name), first.gateway, [])
  for (const site of rest) {
    run([
      'docker',
      'network',
      'connect',
      '--ip',
      site.gateway,
      networkName(site.name),
      `${PREFIX}-${ROUTER_ROLE}`,
    ])
  }
  run(['docker', 'start', `${PREFIX}-${ROUTER_ROLE}`])
}

const logsOf = (container: string) => {
  const r = tryRun(['docker', 'logs', container])
  return r.stdout + r.stderr
}

const running = (container: string) =>
  tryRun(['docker', 'inspect', '-f', '{{.State.Running}}', container]).stdout.trim() === 'true'

async function waitShaped(container: string): Promise<void> {
  const deadline = Date.now() + SHAPE_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (logsOf(container).includes(SHAPED_LINE)) return
    if (!running(container)) break
    await sleep(100)
  }
  throw new TestnetError(
    `container ${container} did not shape its links; its log:\n${logsOf(container).slice(-3000)}`,
  )
}

async function up(topology: Topology, options: UpOptions): Promise<TestnetState> {
  requireRoot('the Docker testnet')
  await ensureDocker(options.log)
  const image = await ensureImage(options.log)
  const plan = backendPlan(topology, 'docker')
  options.log?.(`creating ${plan.sites.length} Docker networks and ${plan.peers.length} containers`)
  createNetworks(plan)
  if (plan.sites.length > 1) {
    createRouter(image, plan)
    await waitShaped(`${PREFIX}-${ROUTER_ROLE}`)
  }
  // each peer's container is named as the plan names its namespace
  const peers = plannedPeers(plan, 'docker')
  const state: TestnetState = { backend: 'docker', topology, startedAt: new Date().toISOString(), peers }
  // at the same path inside as here, so that one path names a file on either side
  const shared = sharedDir()
  mkdirSync(shared, { recursive: true })
  const launch = (peer: PeerState, command: string[]) => {
    const { address, site } = peer
    createContainer(image, topology, peer.name, networkName(site), address, command, [`${shared}:${shared}`])
    if (command.length > 0) {
      run(['docker', 'cp', `${hostDataDir(peer)}/.`, `${peer.ns}:${CONTAINER_DATA_DIR}`])
      run(['docker', 'cp', `${coordinatorDir()}/.`, `${peer.ns}:${CONTAINER_COORDINATOR_DIR}`])
    }
    run(['docker', 'start', peer.ns])
  }
  if (!options.startPeers) {
    for (const peer of peers) launch(peer, [])
  } else {
    options.log?.('starting `atoll peer` in each container')
    await assignPeerIds(peers, hostDataDir)
    state.coordinator = await makeCoordinator()
    const allow = allowFlags([state.coordinator, ...(options.allow ?? [])])
    await startDaemons(
      peers,
      {
        launch,
        isAlive: (peer) => running(peer.ns),
        readLog: (peer) => logsOf(peer.ns),
        argv: (peer, bootstrap) =>
          peerDaemonArgv(CLI, peer, bootstrap, {
            dataDir: CONTAINER_DATA_DIR,
            extra: [...latencyFlags(topology, peer, peers), ...allow, ...(options.daemonFlags ?? [])],
          }),
      },
      options.order,
    )
  }
  for (const peer of peers) await waitShaped(peer.ns)
  writeState(state)
  return state
}

function dockerReachable(): boolean {
  return tryRun(['docker', 'info', '--format', '{{.ServerVersion}}']).status === 0
}

function labelled(kind: 'ps' | 'network'): string[] {
  if (!dockerReachable()) return []
  const args =
    kind === 'ps' ? ['ps', '-a', '--format', '{{.Names}}'] : ['network', 'ls', '--format', '{{.Name}}']
  const r = tryRun(['docker', ...args, '--filter', `label=${LABEL}`])
  return r.stdout.split('\n').filter(Boolean).sort()
}

async function down(): Promise<string[]> {
  const containers = labelled('ps')
  if (containers.length > 0) tryRun(['docker', 'rm', '-f', ...containers])
  const networks = labelled('network')
  if (networks.length > 0) tryRun(['docker', 'network', 'rm', ...networks])
  return [...containers, ...networks.map((n) => `network ${n}`)]
}

export const dockerBackend: TestnetBackend = {
  up,
  down,
  leftovers: () => [...labelled('ps'), ...labelled('network')],
  shell: (peer) => ({
    prefix: ['docker', 'exec', '-i', peer.ns],
    tcpTool: ['node', `${APP_DIR}/packages/testnet/src/tcp-tool-main.ts`],
  }),
  // docker exec gives the command the container's environment, not its own: `-e` adds to it
  exec: (peer, command, env) => ({
    argv: [
      'docker',
      'exec',
      '-i',
      ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
      peer.ns,
      ...command,
    ],
    env: {},
  }),
  logCommand: (peer) => ['docker', 'logs', peer.ns],
  script: (name) => ['node', `${APP_DIR}/packages/testnet/src/${name}`],
  cli: CLI,
  peerDirs: () => ({ coordinator: CONTAINER_COORDINATOR_DIR, dataDir: CONTAINER_DATA_DIR }),
}
