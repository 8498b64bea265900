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
 * The join address for a page at `hostname`: the one on the same host (the page reached the server
 * there, so its WebSockets port is reachable too), else the first.
 */
export function joinAddressFor(addresses: readonly string[], hostname: string): string | undefined {
  const host = hostname.replace(/^\[|\]$/g, '')
  return addresses.find((a) => a.split('/')[2] === host) ?? addresses[0]
}
