import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { loadTopology, readState, type TestnetState, writeState } from '../src/index.ts'

let dir: string
let file: string
const saved = process.env.ATOLL_TESTNET_DIR

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'atoll-state-'))
  file = join(dir, 'state.json')
  process.env.ATOLL_TESTNET_DIR = dir
})
after(() => {
  if (saved === undefined) delete process.env.ATOLL_TESTNET_DIR
  else process.env.ATOLL_TESTNET_DIR = saved
  rmSync(dir, { recursive: true, force: true })
})

const state = (): TestnetState => ({
  backend: 'netns',
  topology: loadTopology('geo3'),
  startedAt: '2025-01-01T00:00:00.000Z',
  peers: [{ name: 'us1', site: 'us', ns: 'atoll-us1', address: '10.1.0.2', pid: 4242, log: '/tmp/us1.log' }],
})

test('the state read back is the state written', () => {
  writeState(state())
  assert.deepEqual(readState(), state())
})

test('a corrupt or foreign state file is refused, naming the file and field, and left as it is', () => {
  const refused = (text: string, message: RegExp) => {
    writeFileSync(file, text)
    assert.throws(() => readState(), { name: 'StateFileError', message })
    assert.equal(readFileSync(file, 'utf8'), text, 'the file is untouched')
  }
  const written = () => JSON.parse(readFileSync(file, 'utf8'))
  writeState(state())
  const good = written()
  refused('{"backend": "netns", ', /state\.json is not JSON: .*remove the file by hand\)$/)
  refused('[]', /state\.json: expected an object, found a list of 0 items/)
  refused(
    JSON.stringify({ ...good, backend: 'vm' }),
    /state\.json: backend: expected one of "netns", "docker", found "vm"/,
  )
  refused(
    JSON.stringify({ ...good, peers: [{ ...good.peers[0], pid: -1 }] }),
    /state\.json: peers\[0\]\.pid: expected an integer ≥ 2, found -1/,
  )
  refused(
    JSON.stringify({ ...good, topology: { ...good.topology, sites: [] } }),
    /state\.json: topology\.sites: expected a list of at least 1 item, found a list of 0 items/,
  )
})
