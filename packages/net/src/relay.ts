/**
 * A reservation on a circuit relay v2, for a peer that others cannot dial directly (behind NAT, or a
 * browser tab): the peer listens on `/p2p-circuit`, dials the relay, and once the relay grants it a
 * slot, the relayed addresses appear among its own. Others dial one of them with `/webrtc` after
 * `/p2p-circuit` to upgrade to a direct WebRTC connection (Atoll's protocols refuse the relayed one,
 * which the relay limits in bytes and time).
 */
import type { Libp2p } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { multiaddr } from '@multiformats/multiaddr'
import { RelayReservationError } from './errors.ts'

/** How long a relay gets to grant a reservation, by default. */
const RESERVATION_MS = 20_000

/**
 * Dials `relay` (a multiaddr ending in `/p2p/<relay id>`) and waits until `node`, which must listen
 * on `/p2p-circuit`, holds a reservation on it. Returns the relayed addresses the node has through
 * that relay, each ending in `/p2p-circuit/p2p/<node id>`.
 */
export async function reserveOn(
  node: Libp2p,
  relay: Multiaddr,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<Multiaddr[]> {
  const relayId = relay.getComponents().findLast((c) => c.name === 'p2p')?.value
  if (relayId === undefined)
    throw new RelayReservationError(`the relay address ${relay} must end in /p2p/<the relay's peer id>`)
  const through = () =>
    node.getMultiaddrs().filter((a) => a.toString().includes(`/p2p/${relayId}/p2p-circuit`))
  const timeoutMs = options.timeoutMs ?? RESERVATION_MS
  const signal = AbortSignal.any([
    AbortSignal.timeout(timeoutMs),
    ...(options.signal ? [options.signal] : []),
  ])
  const { promise, resolve, reject } = Promise.withResolvers<Multiaddr[]>()
  promise.catch(() => {}) // a give-up while the dial is still failing is reported by the dial
  const check = () => {
    const held = through()
    if (held.length > 0) resolve(held)
  }
  const give = () =>
    reject(
      new RelayReservationError(
        options.signal?.aborted
          ? `stopped while waiting for a reservation on the relay ${relay}`
          : `the relay ${relay} granted no reservation within ${timeoutMs / 1000} s (is it a circuit relay v2, and does this peer listen on /p2p-circuit?)`,
      ),
    )
  node.addEventListener('self:peer:update', check)
  signal.addEventListener('abort', give, { once: true })
  try {
    await node.dial(relay, { signal }).catch((err: Error) => {
      throw new RelayReservationError(`cannot reach the relay ${relay}: ${err.message}`)
    })
    check()
    return await promise
  } finally {
    node.removeEventListener('self:peer:update', check)
    signal.removeEventListener('abort', give)
  }
}

/**
 * The address others dial for a direct WebRTC connection to the peer at `relayed` (an address
 * through a relay, `…/p2p-circuit/p2p/<id>`): `/webrtc` after `/p2p-circuit`.
 */
export function webRtcThrough(relayed: Multiaddr): Multiaddr {
  const text = relayed.toString()
  if (!text.includes('/p2p-circuit/p2p/'))
    throw new RelayReservationError(`${text} is not an address through a relay (…/p2p-circuit/p2p/<id>)`)
  return multiaddr(text.replace('/p2p-circuit/p2p/', '/p2p-circuit/webrtc/p2p/'))
}
