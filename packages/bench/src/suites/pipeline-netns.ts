/**
 * The `pipeline` suite's kernel-shaped links: the namespace testnet's geo2 (the suite's two sites;
 * docs/testnet.md), its daemons started one at a time in the join order, and the coordinator run
 * inside the first peer through `exec` with the testnet's coordinator key. Links are `tc` htb classes:
 * each peer's NIC, and one class per pair of sites on the router, so a site's two peers share its
 * uplink (what `even`'s three crossings pay for); the 10 ms one way is added by the daemons (this
 * kernel has no netem). The testnet goes down at the end, on failure, and on SIGINT or SIGTERM.
 * Root only; a testnet that is up already is left alone and the suite refuses to run beside it.
 */
import { spawnSync } from 'node:child_process'
import {
  coordinatorDir,
  downTestnet,
  findPeer,
  isRoot,
  loadTopology,
  peerCommand,
  readState,
  siteLink,
  type Topology,
  testnetNamespaces,
  upTestnet,
} from '@atoll/testnet'
import { BenchProcessError } from '../errors.ts'
import type { LinkKind } from './pipeline-figures.ts'
import { JOIN_ORDER, LAYOUT, runCoordinator } from './pipeline-mesh.ts'
import type { RunnerOutput, RunnerSpec } from './pipeline-spec.ts'

/** The preset whose sites and rates are the suite's LAYOUT (testnet/geo2.yaml). */
export const TOPOLOGY = 'geo2'

/** Whether this process can make network namespaces: root, and an `ip` that knows `netns`. */
export function namespacesUsable(): boolean {
  if (!isRoot()) return false
  const ip = spawnSync('ip', ['netns', 'list'], { stdio: 'ignore' })
  return ip.error === undefined && ip.status === 0
}

/** The runs over geo2 in namespaces; `spec` makes the runner's spec from the coordinator's key, listen and membership. */
export async function runOverGeo2(
  spec: (where: Pick<RunnerSpec, 'key' | 'listen' | 'membership'>) => RunnerSpec,
  log: (line: string) => void,
): Promise<{ runs: RunnerOutput[]; link: Omit<LinkKind, 'size'> }> {
  const link = linkOf(loadTopology(TOPOLOGY))
  const said =
    `testnet ${TOPOLOGY} in network namespaces (root): sites a (a1, a2) and b (b1, b2), ` +
    `${link.inside.mbit} Mbit/s inside, ${link.between.mbit} Mbit/s and ${link.between.delayMs} ms between, ` +
    `shaped by tc; daemons started one at a time, joining ${JOIN_ORDER.join(', ')}`
  const runs = await runOverTestnet(
    { topology: TOPOLOGY, order: JOIN_ORDER, tag: 'pipeline', said },
    spec,
    log,
  )
  return { runs, link }
}

/** A testnet to run a suite's coordinator over: its preset, the daemons' join order, what to log. */
export interface SuiteTestnet {
  topology: string
  order: readonly string[]
  /** the suite's name, the prefix of its log lines */
  tag: string
  /** how the suite describes the testnet, logged first */
  said: string
  /** more `atoll peer` flags for every daemon */
  daemonFlags?: readonly string[]
}

/**
 * Brings up `testnet` in namespaces, its daemons one at a time in its order, runs the coordinator
 * inside the first peer over the runner spec that `spec` makes, and takes the testnet down at the
 * end, on failure and on SIGINT or SIGTERM. Root only; refuses beside a testnet that is up.
 */
export async function runOverTestnet(
  testnet: SuiteTestnet,
  spec: (where: Pick<RunnerSpec, 'key' | 'listen' | 'membership'>) => RunnerSpec,
  log: (line: string) => void,
): Promise<RunnerOutput[]> {
  const { tag } = testnet
  const topology = loadTopology(testnet.topology)
  refuseBesideAnotherTestnet()
  log(`${tag}: ${testnet.said}`)
  const stop = (signal: NodeJS.Signals) => {
    log(`${tag}: ${signal}: taking the testnet down`)
    downTestnet('netns').finally(() => process.exit(130))
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, stop)
  try {
    const state = await upTestnet(topology, 'netns', {
      startPeers: true,
      order: testnet.order,
      daemonFlags: testnet.daemonFlags,
      log: (message) => log(`${tag}:   ${message}`),
    })
    const first = findPeer(state, testnet.order[0])
    if (first.multiaddr === undefined)
      throw new BenchProcessError(`the daemon on ${first.name} reported no address`)
    return await runCoordinator(
      (argv) => peerCommand(state, first.name, argv),
      spec({ key: coordinatorDir(), listen: `/ip4/${first.address}/tcp/0`, membership: [first.multiaddr] }),
      log,
    )
  } finally {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.off(signal, stop)
    const removed = await downTestnet('netns')
    log(`${tag}: testnet down (${removed.length} namespaces removed)`)
  }
}

/** A testnet that is up (or what a crashed one left) is someone's: the suite neither uses nor removes it. */
function refuseBesideAnotherTestnet(): void {
  const state = readState()
  const namespaces = testnetNamespaces()
  if (state !== undefined || namespaces.length > 0)
    throw new BenchProcessError(
      `a testnet is up on this machine (${state?.topology.name ?? namespaces.join(', ')}): ` +
        'the suite brings up its own; run `atoll testnet down` first',
    )
}

/** The rates the suite reports, read from the topology, which must have the suite's sites. */
function linkOf(topology: Topology): Omit<LinkKind, 'size'> {
  const sites = topology.sites.map((s) => ({ name: s.name, peers: s.peers.map((p) => p.name) }))
  if (JSON.stringify(sites) !== JSON.stringify(LAYOUT.sites))
    throw new BenchProcessError(
      `testnet ${topology.name}'s sites are ${JSON.stringify(sites)}, not the suite's ${JSON.stringify(LAYOUT.sites)}`,
    )
  const between = siteLink(topology, 'a', 'b')
  return {
    kind: 'netns',
    why:
      "network namespaces shaped by tc htb: each peer's NIC, and one class per pair of sites on the " +
      "testnet's router, so a site's peers share its uplink; the latency is added by the daemons",
    inside: { mbit: topology.sites[0].rateMbit, delayMs: 0 },
    between: { mbit: between?.rateMbit ?? Number.NaN, delayMs: between?.latencyMs ?? 0 },
    joinOrder: JOIN_ORDER,
  }
}
