import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { daemonAddresses, readDaemonState, STATE_FILE } from '../src/index.ts'
import { removeDaemonState, writeDaemonState } from '../src/state.ts'

const dir = mkdtempSync(join(tmpdir(), 'atoll-peer-state-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const state = {
  peerId: '12D3KooWtest',
  addresses: ['/ip4/10.0.0.2/tcp/4001/p2p/12D3KooWtest'],
  listen: ['/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWtest'],
  pid: 4242,
}

test('the daemon state file gives its addresses, the local ones first', () => {
  writeFileSync(join(dir, STATE_FILE), JSON.stringify(state))
  assert.deepEqual(readDaemonState(dir), state)
  assert.deepEqual(daemonAddresses(dir), [...state.listen, ...state.addresses])
})

test('the daemon writes its state for its owner only, and removes it when it stops', () => {
  const own = mkdtempSync(join(dir, 'own-'))
  writeDaemonState(own, { ...state, metrics: 'http://127.0.0.1:9464/metrics' })
  assert.equal(statSync(join(own, STATE_FILE)).mode & 0o777, 0o600)
  assert.deepEqual(readDaemonState(own), { ...state, metrics: 'http://127.0.0.1:9464/metrics' })
  removeDaemonState(own)
  assert.equal(existsSync(join(own, STATE_FILE)), false)
  removeDaemonState(own) // a second stop finds nothing to remove, and says nothing
})

test('no state file means no daemon there; a corrupt or foreign one names the file and field', () => {
  assert.throws(() => daemonAddresses(join(dir, 'nowhere')), {
    name: 'PeerConfigError',
    message: /no running peer found through .*nowhere\/peer\.json .*pass its address/,
  })
  const file = join(dir, STATE_FILE)
  const refused = (content: string, message: RegExp) => {
    writeFileSync(file, content)
    assert.throws(() => daemonAddresses(dir), { name: 'DaemonStateError', message })
    assert.equal(readFileSync(file, 'utf8'), content)
  }
  refused('{"peerId": ', /peer\.json is not JSON: /)
  refused(JSON.stringify({ ...state, pid: 'x' }), /peer\.json: pid: expected an integer ≥ 1, found "x"$/)
  refused(
    JSON.stringify({ ...state, listen: [7] }),
    /peer\.json: listen\[0\]: expected a string of at most 4096 characters, found 7$/,
  )
  refused(JSON.stringify({ ...state, listen: [], addresses: [] }), /peer\.json lists no address$/)
})
