import { setTimeout as sleep } from 'node:timers/promises'
import * as z from 'zod/mini'
import { TestnetError } from './errors.ts'
import { DOCKER_ADDRESSING, type NetPlan } from './plan.ts'
import { siteLinkShaping, type TcCommand, wholeLink } from './shaping.ts'
import { parseOutput, run } from './sh.ts'

/** The name the router container answers to in ATOLL_TESTNET_PEER. */
export const ROUTER_ROLE = 'router'
/** Inside a container, download shaping goes through this ifb: the kernel shapes only what leaves. */
const IFB = 'atoll-ifb'
/** Printed once the container has shaped its links; the backend waits for it. */
export const SHAPED_LINE = 'atoll-testnet: shaped'

/** What `ip -j addr show` says of the interfaces, as far as the testnet reads it. */
const ipAddresses = z.array(
  z.object({ ifname: z.string(), addr_info: z.array(z.object({ local: z.optional(z.string()) })) }),
)

/** The container's interface that carries `address` (Docker names them eth0, eth1… in no fixed order). */
export function interfaceWith(address: string): string {
  const argv = ['ip', '-j', '-4', 'addr', 'show']
  const links = parseOutput(argv, run(argv), ipAddresses)
  const hit = links.find((l) => l.addr_info.some((a) => a.local === address))
  if (hit === undefined) throw new TestnetError(`no interface has ${address} in this container`)
  return hit.ifname
}

/** The commands a peer container runs on itself: its upload on its interface, its download via ifb. */
export function peerContainerSetup(plan: NetPlan, name: string, dev: string): string[][] {
  const peer = plan.peers.find((p) => p.name === name)
  if (peer === undefined) throw new TestnetError(`no peer '${name}' in the topology`)
  const tc = (cmds: TcCommand[]) => cmds.map((c) => ['tc', ...c.args])
  const site = plan.sites[peer.siteIndex]
  const routes =
    plan.sites.length > 1
      ? [['ip', 'route', 'replace', `${DOCKER_ADDRESSING.base}.0.0/16`, 'via', site.gateway, 'dev', dev]]
      : []
  return [
    // No way out but the testnet: Docker's default route leads to the host.
    ['ip', 'route', 'del', 'default'],
    ...routes,
    ...tc(wholeLink(undefined, dev, peer.upMbit)),
    ['ip', 'link', 'add', IFB, 'type', 'ifb'],
    ['ip', 'link', 'set', IFB, 'up'],
    ['tc', 'qdisc', 'add', 'dev', dev, 'handle', 'ffff:', 'ingress'],
    [
      'tc',
      'filter',
      'add',
      'dev',
      dev,
      'parent',
      'ffff:',
      'protocol',
      'all',
      'u32',
      'match',
      'u32',
      '0',
      '0',
      'action',
      'mirred',
      'egress',
      'redirect',
      'dev',
      IFB,
    ],
    ...tc(wholeLink(undefined, IFB, peer.downMbit)),
  ]
}

/** The router container shapes each wide-area link on its interface into the receiving site. */
export function routerContainerSetup(plan: NetPlan, devFor: (address: string) => string): string[][] {
  return [
    ['ip', 'route', 'del', 'default'],
    ...plan.sites.flatMap((site) =>
      siteLinkShaping(plan, undefined, devFor(site.gateway), site).map((c) => ['tc', ...c.args]),
    ),
  ]
}

const BOOTSTRAP_WAIT_MS = 120_000

/** Waits for the daemon whose data directory is `dir` to write its state, and returns its address on `ip`. */
export async function bootstrapAddress(dir: string, ip: string): Promise<string> {
  // imported here: @atoll/peer brings onnxruntime, which the router container has no use for
  const { readDaemonState } = await import('@atoll/peer')
  const deadline = Date.now() + BOOTSTRAP_WAIT_MS
  let last = 'no state file yet'
  while (Date.now() < deadline) {
    try {
      const hit = readDaemonState(dir).addresses.find((a) => a.startsWith(`/ip4/${ip}/tcp/`))
      if (hit !== undefined) return hit
      last = `no address on ${ip} yet`
    } catch (err) {
      // not written yet, or caught half-written
      last = (err as Error).message
    }
    await sleep(250)
  }
  throw new TestnetError(
    `no peer state with an address on ${ip} in ${dir} after ${BOOTSTRAP_WAIT_MS / 1000} s (${last})`,
  )
}
