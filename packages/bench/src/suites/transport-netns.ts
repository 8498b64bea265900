/**
 * Two network namespaces joined by a veth pair whose both ends are shaped with `tc tbf`, for the shaped
 * figures of the `transport` suite. Root only. Names start with `atoll-` (and carry the pid, so a
 * concurrent testnet or a second bench is never touched); `remove` deletes them and with them the veth.
 */
import { execFileSync } from 'node:child_process'

export interface ShapedPair {
  sender: string
  receiver: string
  senderIp: string
  receiverIp: string
  /** (Re)shapes both directions to `mbit` Mbit/s. */
  shape(mbit: number): void
  remove(): void
}

const SUBNET = '10.231.77'
/** tbf refills per timer tick; 2 ms of traffic (at least 32 KiB) keeps fast rates from undershooting. */
const BURST_SECONDS = 0.002
const MIN_BURST_BYTES = 32 * 1024
/** 20 ms of queue (at least 256 KiB): enough for TCP to fill the link without building a long delay. */
const QUEUE_SECONDS = 0.02
const MIN_QUEUE_BYTES = 256 * 1024

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

export function createShapedPair(): ShapedPair {
  const tag = `${process.pid}`
  const sender = `atoll-bench-${tag}-a`
  const receiver = `atoll-bench-${tag}-b`
  const [devA, devB] = [`atlb${tag}a`.slice(-15), `atlb${tag}b`.slice(-15)]
  const pair: ShapedPair = {
    sender,
    receiver,
    senderIp: `${SUBNET}.1`,
    receiverIp: `${SUBNET}.2`,
    shape(mbit) {
      const bytesPerSecond = (mbit * 1e6) / 8
      const burst = Math.max(MIN_BURST_BYTES, Math.round(bytesPerSecond * BURST_SECONDS))
      const limit = Math.max(MIN_QUEUE_BYTES, Math.round(bytesPerSecond * QUEUE_SECONDS))
      for (const [ns, dev] of [
        [sender, devA],
        [receiver, devB],
      ]) {
        ip('-n', ns, 'link', 'set', dev, 'up')
        execFileSync('tc', [
          '-n',
          ns,
          'qdisc',
          'replace',
          'dev',
          dev,
          'root',
          'tbf',
          'rate',
          `${mbit}mbit`,
          'burst',
          `${burst}b`,
          'limit',
          `${limit}b`,
        ])
      }
    },
    remove() {
      for (const ns of [sender, receiver]) {
        try {
          ip('netns', 'del', ns)
        } catch {
          // already gone
        }
      }
    },
  }
  try {
    ip('netns', 'add', sender)
    ip('netns', 'add', receiver)
    ip('link', 'add', devA, 'netns', sender, 'type', 'veth', 'peer', 'name', devB, 'netns', receiver)
    ip('-n', sender, 'addr', 'add', `${pair.senderIp}/24`, 'dev', devA)
    ip('-n', receiver, 'addr', 'add', `${pair.receiverIp}/24`, 'dev', devB)
    for (const ns of [sender, receiver]) ip('-n', ns, 'link', 'set', 'lo', 'up')
  } catch (err) {
    pair.remove()
    throw err
  }
  return pair
}
