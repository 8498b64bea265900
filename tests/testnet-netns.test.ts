/**
 * End to end, as root: `atoll testnet up --topology geo3` in network namespaces, every shaped link
 * measured within 10% of its spec, and `down` leaving no namespace behind. Skipped when not root.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { isRoot, type MeasuredLink, testnetNamespaces } from '../packages/testnet/src/index.ts'

const main = fileURLToPath(new URL('../packages/cli/src/main.ts', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'atoll-testnet-'))
const env = { ...process.env, ATOLL_TESTNET_DIR: dir }
const atoll = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env })
/** The spec is a ceiling: a measurement can fall short when the two cores are busy, never overshoot. */
const TOLERANCE = 0.1

const skip = !isRoot()
  ? 'needs root (network namespaces and tc)'
  : testnetNamespaces().length > 0
    ? `a testnet is up on this machine (${testnetNamespaces().join(', ')}); run \`atoll testnet down\``
    : false

after(() => {
  if (!skip) atoll('testnet', 'down')
  rmSync(dir, { recursive: true, force: true })
})

test('geo3 in namespaces: up, every link within 10% of its spec, down leaves nothing', { skip }, () => {
  const upRun = atoll('testnet', 'up', '--topology', 'geo3', '--no-peers')
  assert.equal(upRun.status, 0, upRun.stderr)
  assert.deepEqual(testnetNamespaces(), [
    'atoll-asia1',
    'atoll-asia2',
    'atoll-eu1',
    'atoll-eu2',
    'atoll-router',
    'atoll-us1',
    'atoll-us2',
  ])
  const again = atoll('testnet', 'up', '--topology', 'lan', '--no-peers')
  assert.equal(again.status, 1)
  assert.match(again.stderr, /TestnetAlreadyUpError: testnet 'geo3'/)

  const json = join(dir, 'links.json')
  const st = atoll('testnet', 'status', '--measure', '--seconds', '1.5', '--json', json)
  assert.equal(st.status, 0, st.stderr)
  const { links } = JSON.parse(readFileSync(json, 'utf8')) as { links: MeasuredLink[] }
  assert.equal(links.length, 12)
  assert.deepEqual(
    [...new Set(links.map((l) => l.spec_mbit))].sort((a, b) => a - b),
    [20, 50, 100, 1000],
  )
  for (const l of links) {
    let measured = l.measured_mbit
    if (measured < l.spec_mbit * (1 - TOLERANCE)) measured = remeasure(l)
    const ratio = measured / l.spec_mbit
    assert.ok(
      Math.abs(ratio - 1) <= TOLERANCE,
      `${l.from} → ${l.to}: ${measured} Mbit/s for a spec of ${l.spec_mbit}`,
    )
  }

  const down = atoll('testnet', 'down')
  assert.equal(down.status, 0, down.stderr)
  assert.deepEqual(testnetNamespaces(), [])
  assert.match(atoll('testnet', 'down').stdout, /nothing to remove/)
})

/** A second try for a link that fell short, through the tool alone, once the rest of the run is over. */
function remeasure(l: MeasuredLink): number {
  const to = spawnSync('ip', ['-n', `atoll-${l.to}`, '-4', '-br', 'addr', 'show', 'atoll0'], {
    encoding: 'utf8',
  })
  const address = to.stdout.split(/\s+/)[2].split('/')[0]
  const tool = fileURLToPath(new URL('../packages/testnet/src/tcp-tool-main.ts', import.meta.url))
  const recv = `ip netns exec atoll-${l.to} ${process.execPath} ${tool} recv 0.0.0.0 5202`
  const send = `sleep 0.5; ip netns exec atoll-${l.from} ${process.execPath} ${tool} send ${address} 5202 2`
  const r = spawnSync('sh', ['-c', `(${send}) & ${recv}`], { encoding: 'utf8' })
  return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { mbit: number }).mbit
}
