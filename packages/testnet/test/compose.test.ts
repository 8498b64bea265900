import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parse } from 'yaml'
import { BOOT_DIR, composeYaml, loadTopology } from '../src/index.ts'

interface Service {
  networks: Record<string, { ipv4_address: string }>
  environment: Record<string, string>
  command?: string[]
  cap_add: string[]
}

test('the compose file has the router, one service per peer, and one network per site', () => {
  const doc = parse(composeYaml(loadTopology('geo3'), 'atoll-peer:test')) as {
    services: Record<string, Service>
    networks: Record<string, { ipam: { config: { subnet: string }[] } }>
  }
  assert.deepEqual(Object.keys(doc.services), ['router', 'us1', 'us2', 'eu1', 'eu2', 'asia1', 'asia2'])
  assert.deepEqual(doc.services.router.networks, {
    us: { ipv4_address: '10.78.1.2' },
    eu: { ipv4_address: '10.78.2.2' },
    asia: { ipv4_address: '10.78.3.2' },
  })
  assert.deepEqual(doc.services.eu2.networks, { eu: { ipv4_address: '10.78.2.11' } })
  assert.deepEqual(doc.networks.asia.ipam.config, [{ subnet: '10.78.3.0/24', gateway: '10.78.3.1' }])
  for (const s of Object.values(doc.services)) {
    assert.deepEqual(s.cap_add, ['NET_ADMIN'])
    assert.equal(JSON.parse(s.environment.ATOLL_TESTNET_TOPOLOGY).name, 'geo3')
  }
  // the first peer keeps its state where the others wait for it
  assert.deepEqual(doc.services.us1.command?.slice(-2), ['--data-dir', BOOT_DIR])
  assert.equal(doc.services.us1.environment.ATOLL_TESTNET_BOOTSTRAP_FROM, undefined)
  assert.equal(doc.services.asia2.environment.ATOLL_TESTNET_BOOTSTRAP_FROM, BOOT_DIR)
  assert.deepEqual(doc.services.asia2.command?.slice(0, 5), [
    '--',
    'node',
    '/app/packages/cli/src/main.ts',
    'peer',
    '--listen',
  ])
})

test('a single-site topology needs no router', () => {
  const doc = parse(composeYaml(loadTopology('home'))) as { services: Record<string, unknown> }
  assert.equal('router' in doc.services, false)
  assert.equal(Object.keys(doc.services).length, 6)
})
