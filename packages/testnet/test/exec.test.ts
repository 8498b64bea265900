/**
 * What `atoll testnet exec PEER -- CMD…` runs, per backend: the command inside the peer, `atoll` as
 * the CLI the daemons run, and (with daemons up) the environment that points `atoll train` at the
 * testnet's coordinator key and the peer's daemon. The state directory's layout around it: the key
 * goes with the testnet, the shared folder stays.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import {
  backendPlan,
  clearState,
  cliMain,
  coordinatorDir,
  loadTopology,
  makeCoordinator,
  peerCommand,
  plannedPeers,
  readState,
  sharedDir,
  type TestnetState,
  writeState,
} from '../src/index.ts'

let dir: string
const saved = process.env.ATOLL_TESTNET_DIR

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'atoll-exec-'))
  process.env.ATOLL_TESTNET_DIR = dir
})
after(() => {
  if (saved === undefined) delete process.env.ATOLL_TESTNET_DIR
  else process.env.ATOLL_TESTNET_DIR = saved
  rmSync(dir, { recursive: true, force: true })
})

const COORDINATOR = '12D3KooWGzZbSeXvuVNT1r8hMj7SLdYkaZUbG4SKTeUWuDVUVxmH'
const topology = loadTopology('geo3')
const state = (backend: 'netns' | 'docker', coordinator?: string): TestnetState => ({
  backend,
  topology,
  startedAt: '2025-01-01T00:00:00.000Z',
  peers: plannedPeers(backendPlan(topology, backend), backend),
  ...(coordinator === undefined ? {} : { coordinator }),
})

test('in a namespace: `atoll` is this checkout’s CLI, and train finds the key and the daemon in the state directory', () => {
  const run = peerCommand(state('netns', COORDINATOR), 'eu2', ['atoll', 'train', 'job.yaml'])
  assert.deepEqual(run.argv, [
    'ip',
    'netns',
    'exec',
    'atoll-eu2',
    process.execPath,
    cliMain,
    'train',
    'job.yaml',
  ])
  assert.deepEqual(run.env, {
    ATOLL_TRAIN_IDENTITY: join(dir, 'coordinator'),
    ATOLL_TRAIN_DATA_DIR: join(dir, 'eu2'),
  })
})

test('in a container: `atoll` is the image’s CLI, and the environment goes in with docker exec -e', () => {
  const run = peerCommand(state('docker', COORDINATOR), 'asia1', ['atoll', 'peers', '--json'])
  assert.deepEqual(run.argv, [
    ...['docker', 'exec', '-i', '-e', 'ATOLL_TRAIN_IDENTITY=/atoll-coordinator'],
    ...['-e', 'ATOLL_TRAIN_DATA_DIR=/atoll-peer', 'atoll-asia1'],
    ...['node', '/app/packages/cli/src/main.ts', 'peers', '--json'],
  ])
  assert.deepEqual(run.env, {})
})

test('other commands run as given; without daemons there is no coordinator to point at', () => {
  for (const backend of ['netns', 'docker'] as const) {
    const run = peerCommand(state(backend), 'us1', ['sh', '-c', 'atoll x'])
    assert.deepEqual(run.argv.slice(-3), ['sh', '-c', 'atoll x'])
    assert.deepEqual(run.env, {})
    assert.ok(!run.argv.includes('-e'))
  }
  assert.throws(() => peerCommand(state('netns'), 'mars1', ['true']), { name: 'UnknownPeerError' })
})

test('the coordinator key: made once, kept by the state, gone with the testnet; the shared folder stays', async () => {
  const id = await makeCoordinator()
  assert.match(id, /^12D3KooW/)
  assert.equal(await makeCoordinator(), id, 'the key is loaded, not made again')
  writeState(state('netns', id))
  assert.equal(readState()?.coordinator, id)
  mkdirSync(sharedDir(), { recursive: true })
  writeFileSync(join(sharedDir(), 'job.yaml'), 'x')
  clearState()
  assert.equal(existsSync(coordinatorDir()), false)
  assert.equal(readState(), undefined)
  assert.ok(existsSync(join(sharedDir(), 'job.yaml')))
})
