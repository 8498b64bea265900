import { siteLink } from './links.ts'
import { type NetPlan, PEER_IF, ROUTER_NS, type SitePlan } from './plan.ts'

/** One `tc` invocation inside a namespace (undefined: the namespace the caller runs in, as in a container). */
export interface TcCommand {
  ns: string | undefined
  args: string[]
}

/**
 * htb needs a bucket that refills at least once per timer tick, or fast classes undershoot their rate:
 * 2 ms of traffic, but never less than a few full-size frames.
 */
const BURST_SECONDS = 0.002
const MIN_BURST_BYTES = 16 * 1514
/** Queue 20 ms of traffic (at least 256 KiB): enough to keep TCP busy, little enough to bound the delay. */
const QUEUE_SECONDS = 0.02
const MIN_QUEUE_BYTES = 256 * 1024
/** htb warns and mis-shares when a class's quantum is outside [MTU, 200000]; one fixed value is fine here. */
const QUANTUM = 15140

/**
 * Rates in a topology are what a TCP flow gets (goodput), which is what the probes and the scheduler
 * see. htb counts whole frames, so the class rate is raised by the headers of a full-size segment:
 * 1514 bytes on the wire (Ethernet 14 + IP 20 + TCP with timestamps 32) carry 1448 of payload.
 */
export const WIRE_PER_GOODPUT = 1514 / 1448

const bytesPerSecond = (mbit: number) => (mbit * WIRE_PER_GOODPUT * 1e6) / 8

/** The wire rate in kbit, so fractional Mbit rates keep their precision. */
const kbit = (mbit: number) => `${Math.round(mbit * WIRE_PER_GOODPUT * 1000)}kbit`

function rateClass(ns: string | undefined, dev: string, classid: string, mbit: number): TcCommand[] {
  const burst = Math.max(MIN_BURST_BYTES, Math.round(bytesPerSecond(mbit) * BURST_SECONDS))
  const queue = Math.max(MIN_QUEUE_BYTES, Math.round(bytesPerSecond(mbit) * QUEUE_SECONDS))
  const minor = classid.split(':')[1]
  return [
    {
      ns,
      args: [
        'class',
        'add',
        'dev',
        dev,
        'parent',
        '1:',
        'classid',
        classid,
        'htb',
        'rate',
        kbit(mbit),
        'ceil',
        kbit(mbit),
        'burst',
        `${burst}b`,
        'cburst',
        `${burst}b`,
        'quantum',
        String(QUANTUM),
      ],
    },
    {
      ns,
      args: [
        'qdisc',
        'add',
        'dev',
        dev,
        'parent',
        classid,
        'handle',
        `${minor}:`,
        'bfifo',
        'limit',
        String(queue),
      ],
    },
  ]
}

/** One htb class that every packet leaving `dev` goes through. */
export function wholeLink(ns: string | undefined, dev: string, mbit: number): TcCommand[] {
  return [
    { ns, args: ['qdisc', 'add', 'dev', dev, 'root', 'handle', '1:', 'htb', 'default', '10'] },
    ...rateClass(ns, dev, '1:10', mbit),
  ]
}

/**
 * The wide-area links into site `into`: on the router's interface towards that site, one htb class
 * per other site, chosen by source subnet. No default class: what does not come from another site
 * (ARP, the router's own packets) is not shaped.
 */
export function siteLinkShaping(
  plan: NetPlan,
  ns: string | undefined,
  dev: string,
  into: SitePlan,
): TcCommand[] {
  const others = plan.sites.filter((s) => s.index !== into.index)
  if (others.length === 0) return []
  const out: TcCommand[] = [{ ns, args: ['qdisc', 'add', 'dev', dev, 'root', 'handle', '1:', 'htb'] }]
  for (const from of others) {
    const link = siteLink(plan.topology, from.name, into.name)!
    const classid = `1:${from.index + 10}`
    out.push(...rateClass(ns, dev, classid, link.rateMbit))
    out.push({
      ns,
      args: [
        'filter',
        'add',
        'dev',
        dev,
        'parent',
        '1:',
        'protocol',
        'ip',
        'prio',
        '1',
        'u32',
        'match',
        'ip',
        'src',
        from.subnet,
        'flowid',
        classid,
      ],
    })
  }
  return out
}

/**
 * Every qdisc of the namespace testnet. Each peer's NIC is shaped where it sends (its own interface)
 * and where it receives (its port on the site bridge); the wide-area link from site A to site B is an
 * htb class on the router's bridge into B. So a flow between sites crosses its sender's upload, the
 * A→B link and its receiver's download, and the slowest of them is its rate.
 */
export function shapingCommands(plan: NetPlan): TcCommand[] {
  const out: TcCommand[] = []
  for (const peer of plan.peers) {
    out.push(...wholeLink(peer.ns, PEER_IF, peer.upMbit), ...wholeLink(ROUTER_NS, peer.port, peer.downMbit))
  }
  for (const into of plan.sites) out.push(...siteLinkShaping(plan, ROUTER_NS, into.bridge, into))
  return out
}
