/**
 * The `atoll testnet` CLI as the root end-to-end tests run it: in a process of its own, with the
 * testnet's state in a temporary directory of the test's (ATOLL_TESTNET_DIR), never in /run.
 */
import assert from 'node:assert/strict'
import type { SpawnSyncReturns } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { runScript } from './atoll.ts'

export interface TestnetCli {
  /** the state directory: the test removes it when done */
  dir: string
  atoll(...args: string[]): SpawnSyncReturns<string>
}

export function testnetCli(prefix: string): TestnetCli {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const env = { ...process.env, ATOLL_TESTNET_DIR: dir }
  return {
    dir,
    atoll: (...args) => runScript('packages/cli/src/main.ts', args, env),
  }
}

export interface KnownPeer {
  name?: string
  connected: boolean
  rttMs?: number
}

/**
 * Polls `atoll peers --json`, run inside `peer` by `testnet exec` (`cli` is how to start atoll there,
 * `dataDir` the daemon's directory there), until `settled` returns a value; fails with the last answer.
 */
export async function pollPeers<T>(
  { atoll }: TestnetCli,
  peer: string,
  { cli, dataDir }: { cli: string[]; dataDir: string },
  settled: (peers: KnownPeer[]) => T | undefined,
  timeoutMs: number,
): Promise<T> {
  const until = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < until) {
    const r = atoll('testnet', 'exec', peer, '--', ...cli, 'peers', '--data-dir', dataDir, '--json')
    last = r.stdout + r.stderr
    if (r.status === 0) {
      const found = settled((JSON.parse(r.stdout) as { peers: KnownPeer[] }).peers)
      if (found !== undefined) return found
    }
    await sleep(1000)
  }
  return assert.fail(`${peer} did not settle within ${timeoutMs / 1000} s: ${last.slice(-1500)}`)
}
