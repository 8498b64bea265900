import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import {
  backendPlan,
  clearState,
  loadTopology,
  plannedPeers,
  readState,
  type TestnetState,
  writeState,
} from '../src/index.ts'

let root: string
let dir: string
let file: string
const saved = process.env.ATOLL_TESTNET_DIR

before(() => {
  // the state directory inside a folder of the test's, so that a path out of it stays inside ours
  root = mkdtempSync(join(tmpdir(), 'atoll-state-'))
  dir = join(root, 'state')
  file = join(dir, 'state.json')
  process.env.ATOLL_TESTNET_DIR = dir
})
after(() => {
  if (saved === undefined) delete process.env.ATOLL_TESTNET_DIR
  else process.env.ATOLL_TESTNET_DIR = saved
  rmSync(root, { recursive: true, force: true })
})

const topology = loadTopology('geo3')
const state = (backend: 'netns' | 'docker' = 'netns'): TestnetState => {
  const peers = plannedPeers(backendPlan(topology, backend), backend)
  const [first, ...rest] = peers
  const peerId = '12D3KooWGzZbSeXvuVNT1r8hMj7SLdYkaZUbG4SKTeUWuDVUVxmH'
  const daemon = { pid: 4242, peerId, multiaddr: `/ip4/${first.address}/tcp/4001/p2p/${peerId}` }
  return {
    backend,
    topology,
    startedAt: '2025-01-01T00:00:00.000Z',
    peers: [{ ...first, ...daemon }, ...rest],
  }
}

test('the state read back is the state written, for either backend', () => {
  for (const backend of ['netns', 'docker'] as const) {
    writeState(state(backend))
    assert.deepEqual(readState(), state(backend))
  }
})

const refused = (text: string, message: RegExp) => {
  writeFileSync(file, text)
  assert.throws(() => readState(), { name: 'StateFileError', message })
  assert.equal(readFileSync(file, 'utf8'), text, 'the file is untouched')
}
const written = () => {
  writeState(state())
  return JSON.parse(readFileSync(file, 'utf8'))
}

test('a corrupt or foreign state file is refused, naming the file and field, and left as it is', () => {
  const good = written()
  refused('{"backend": "netns", ', /state\.json is not JSON: .*remove the file by hand\)$/)
  refused('[]', /state\.json: expected an object, found a list of 0 items/)
  refused(
    JSON.stringify({ ...good, backend: 'vm' }),
    /state\.json: backend: expected one of "netns", "docker", found "vm"/,
  )
  refused(
    JSON.stringify({ ...good, topology: { ...good.topology, sites: [] } }),
    /state\.json: topology\.sites: expected a list of at least 1 item, found a list of 0 items/,
  )
})

test("each peer field is what the backend names and addresses the topology's peer, or the file is refused", () => {
  const good = written()
  const peer0 = (fields: Record<string, unknown>) =>
    JSON.stringify({ ...good, peers: [{ ...good.peers[0], ...fields }, ...good.peers.slice(1)] })
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ name: '../victim' }, /peers\[0\]\.name: expected a string matching .*, found "\.\.\/victim"/],
    [{ name: 'zz1' }, /peers\[0\]\.name: expected one of the topology's peers "us1", .*, found "zz1"/],
    [{ site: 'eu' }, /peers\[0\]\.site: expected "us", found "eu"/],
    [{ ns: '-n' }, /peers\[0\]\.ns: expected "atoll-us1", found "-n"/],
    [{ address: 'not-an-ip' }, /peers\[0\]\.address: expected an IPv4 address, found "not-an-ip"/],
    [{ address: '10.77.2.10' }, /peers\[0\]\.address: expected "10\.77\.1\.10", found "10\.77\.2\.10"/],
    [{ log: '/etc/shadow' }, /peers\[0\]\.log: expected ".*\/us1\.log", found "\/etc\/shadow"/],
    [{ pid: -1 }, /peers\[0\]\.pid: expected an integer ≥ 2, found -1/],
    [{ pid: 1.5 }, /peers\[0\]\.pid: expected an integer ≥ 2, found 1\.5/],
    [{ peerId: '--help' }, /peers\[0\]\.peerId: expected a libp2p peer id .*, found "--help"/],
    [
      { multiaddr: '-x' },
      /peers\[0\]\.multiaddr: expected "\/ip4\/10\.77\.1\.10\/tcp\/4001\/p2p\/12D3\w+", found "-x"/,
    ],
    [
      { peerId: undefined },
      /peers\[0\]\.peerId: expected the peer id that the multiaddr ends in, found nothing/,
    ],
    [
      { multiaddr: good.peers[0].multiaddr.replace('10.77.1.10', '10.77.1.11') },
      /peers\[0\]\.multiaddr: expected "\/ip4\/10\.77\.1\.10\/tcp\/4001\/p2p\/12D3\w+", found "\/ip4\/10\.77\.1\.11\/.*"/,
    ],
  ]
  for (const [fields, message] of cases) refused(peer0(fields), message)
  refused(
    JSON.stringify({ ...good, peers: [good.peers[0], ...good.peers.slice(0, -1)] }),
    /state\.json: peers\[1\]\.name: expected a peer not listed before, found "us1"/,
  )
  refused(
    JSON.stringify({ ...good, peers: good.peers.slice(1) }),
    /state\.json: peers: expected the topology's 6 peers, found a list of 5 items/,
  )
})

test('down with a state file that names a path as a peer deletes nothing', () => {
  const victim = join(root, 'victim')
  mkdirSync(victim)
  writeFileSync(join(victim, 'keep'), 'x')
  const good = written()
  const hostile = JSON.stringify({ ...good, peers: [{ ...good.peers[0], name: '../victim' }] })
  writeFileSync(file, hostile)
  assert.throws(() => clearState(), { name: 'StateFileError', message: /peers\[0\]\.name/ })
  assert.ok(existsSync(join(victim, 'keep')), 'the folder outside the state directory is still there')
  assert.equal(readFileSync(file, 'utf8'), hostile)
  // the names it is given are checked too (down and a failed up pass the topology's)
  assert.throws(() => clearState(['../victim']), { name: 'TestnetError', message: /"\.\.\/victim"/ })
  assert.ok(existsSync(join(victim, 'keep')))
})
