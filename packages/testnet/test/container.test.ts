import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  DOCKER_ADDRESSING,
  latencyFlags,
  loadTopology,
  type PeerState,
  peerContainerSetup,
  peerDaemonArgv,
  planNetwork,
  routerContainerSetup,
} from '../src/index.ts'

const geo3 = loadTopology('geo3')
const plan = planNetwork(geo3, DOCKER_ADDRESSING)

test('a peer container shapes its upload, its download through ifb, and routes only into the testnet', () => {
  const cmds = peerContainerSetup(plan, 'eu1', 'eth0').map((c) => c.join(' '))
  assert.equal(cmds[0], 'ip route del default')
  assert.equal(cmds[1], 'ip route replace 10.78.0.0/16 via 10.78.2.2 dev eth0')
  assert.ok(
    cmds.some((c) => c.startsWith('tc class add dev eth0 parent 1: classid 1:10 htb rate 1045580kbit')),
  )
  assert.ok(cmds.includes('ip link add atoll-ifb type ifb'))
  assert.ok(cmds.some((c) => c.includes('action mirred egress redirect dev atoll-ifb')))
  assert.ok(
    cmds.some((c) => c.startsWith('tc class add dev atoll-ifb parent 1: classid 1:10 htb rate 1045580kbit')),
  )
  assert.throws(() => peerContainerSetup(plan, 'nobody', 'eth0'), /no peer 'nobody'/)
})

test('the router container shapes each site link on the interface into the receiving site', () => {
  const devs: Record<string, string> = { '10.78.1.2': 'eth0', '10.78.2.2': 'eth2', '10.78.3.2': 'eth1' }
  const cmds = routerContainerSetup(plan, (a) => devs[a]).map((c) => c.join(' '))
  assert.equal(cmds[0], 'ip route del default')
  // into asia (eth1): from us at 20 Mbit/s, from eu at 50 (plus the header allowance)
  assert.ok(cmds.some((c) => c.startsWith('tc class add dev eth1 parent 1: classid 1:10 htb rate 20912kbit')))
  assert.ok(cmds.some((c) => c.startsWith('tc class add dev eth1 parent 1: classid 1:11 htb rate 52279kbit')))
  assert.ok(
    cmds.includes(
      'tc filter add dev eth2 parent 1: protocol ip prio 1 u32 match ip src 10.78.3.0/24 flowid 1:12',
    ),
  )
})

const peer = (name: string, site: string, peerId?: string): PeerState => ({
  name,
  site,
  ns: `atoll-${name}`,
  address: '10.77.1.10',
  log: '',
  peerId,
})

test('each daemon delays what it sends to other sites by their link latency', () => {
  const all = [
    peer('us1', 'us', 'A'),
    peer('us2', 'us', 'B'),
    peer('eu1', 'eu', 'C'),
    peer('asia1', 'asia', 'D'),
  ]
  assert.deepEqual(latencyFlags(geo3, all[0], all), [
    '--emulate-link',
    'C=100gbit,40ms',
    '--emulate-link',
    'D=100gbit,90ms',
  ])
  assert.deepEqual(latencyFlags(geo3, all[2], all), [
    '--emulate-link',
    'A=100gbit,40ms',
    '--emulate-link',
    'B=100gbit,40ms',
    '--emulate-link',
    'D=100gbit,80ms',
  ])
  assert.deepEqual(latencyFlags(loadTopology('lan'), all[0], all.slice(0, 2)), [])
})

test('the daemon listens on its testnet address and joins through the first peer', () => {
  assert.deepEqual(peerDaemonArgv(['atoll'], peer('us1', 'us'), undefined), [
    'atoll',
    'peer',
    '--listen',
    '/ip4/10.77.1.10/tcp/4001',
    '--name',
    'us1',
  ])
  assert.deepEqual(
    peerDaemonArgv(['atoll'], peer('us1', 'us'), '/ip4/x/p2p/Q', { dataDir: '/d', extra: ['--x'] }).slice(6),
    ['--data-dir', '/d', '--bootstrap', '/ip4/x/p2p/Q', '--x'],
  )
})
