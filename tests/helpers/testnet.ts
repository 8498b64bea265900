/**
 * The `atoll testnet` CLI as the tests run it: in a process of its own, with the testnet's state in a
 * scratch directory of the test file's (ATOLL_TESTNET_DIR), never in /run.
 */
import assert from 'node:assert/strict'
import type { SpawnSyncReturns } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { after } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { runScript, scratchDir } from './atoll.ts'

export interface TestnetCli {
  /** the state directory; it goes when the test file is done */
  dir: string
  atoll(...args: string[]): SpawnSyncReturns<string>
}

/**
 * `env` is added to the CLI's environment. When the test file is done, a testnet whose state is still
 * in the directory (one this CLI brought up: a test skipped for someone else's testnet has none) is
 * taken down, then the directory is removed.
 */
export function testnetCli(prefix: string, env: NodeJS.ProcessEnv = {}): TestnetCli {
  // registered before scratchDir's removal of the directory, and hooks run in the order registered
  after(() => {
    if (existsSync(join(cli.dir, 'state.json'))) cli.atoll('testnet', 'down')
  })
  const dir = scratchDir(prefix)
  const cliEnv = { ...process.env, ...env, ATOLL_TESTNET_DIR: dir }
  const cli: TestnetCli = { dir, atoll: (...args) => runScript('packages/cli/src/main.ts', args, cliEnv) }
  return cli
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
