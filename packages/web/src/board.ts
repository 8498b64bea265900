/**
 * The server's status beside the page: `atoll fl serve --web` answers `federation.json` with it
 * (sync's FederationStatus); a page served any other way gets a 404 and shows no server panel. The
 * answer is checked with the status schema before the page uses it.
 */
import { parseJson, parseWith } from '@atoll/core'
import { type FederationStatus, federationStatus } from '@atoll/sync'
import { BoardError } from './errors.ts'

/** Where the status is, relative to the page. */
export const BOARD_PATH = 'federation.json'

/** The server's status; undefined when the page's origin serves none (404). */
export async function fetchBoard(url = BOARD_PATH): Promise<FederationStatus | undefined> {
  const response = await fetch(url, { cache: 'no-store' }).catch((err: Error) => {
    throw new BoardError(`cannot fetch ${url}: ${err.message}`)
  })
  if (response.status === 404) return undefined
  if (!response.ok) throw new BoardError(`${url} answered ${response.status} ${response.statusText}`)
  const json = parseJson(await response.text(), url, BoardError)
  return parseWith(federationStatus, json, (problem) => new BoardError(`${url}: ${problem.message}`))
}

/**
 * The addresses a page at `hostname` tries, in turn: first the server's WebSockets on the same host
 * (the page reached the server there, so that port is likely reachable too), then its other
 * WebSockets addresses, then WebRTC through a relay (`…/p2p-circuit/webrtc/…`), for a tab that cannot
 * reach the server directly.
 */
export function joinAddressesFor(addresses: readonly string[], hostname: string): string[] {
  const host = hostname.replace(/^\[|\]$/g, '')
  const rank = (a: string) => (a.includes('/p2p-circuit/') ? 2 : a.split('/')[2] === host ? 0 : 1)
  return addresses
    .map((address, order) => ({ address, order }))
    .sort((a, b) => rank(a.address) - rank(b.address) || a.order - b.order)
    .map((a) => a.address)
}
