import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadTopology, measurementPairs, planNetwork, shapingCommands } from '../src/index.ts'

test('the address plan gives each site a /24 and each peer a namespace and a router port', () => {
  const plan = planNetwork(loadTopology('geo3'))
  assert.deepEqual(
    plan.sites.map((s) => [s.subnet, s.gateway, s.bridge]),
    [
      ['10.77.1.0/24', '10.77.1.1', 'atoll-s0'],
      ['10.77.2.0/24', '10.77.2.1', 'atoll-s1'],
      ['10.77.3.0/24', '10.77.3.1', 'atoll-s2'],
    ],
  )
  const eu2 = plan.peers.find((p) => p.name === 'eu2')!
  assert.deepEqual(
    [eu2.ns, eu2.address, eu2.port, eu2.upMbit, eu2.downMbit],
    ['atoll-eu2', '10.77.2.11', 'atoll-s1p1', 1000, 1000],
  )
  for (const p of plan.peers) assert.ok(p.port.length <= 15, `${p.port} fits IFNAMSIZ`)
})

test('a link spec is the slowest hop: upload, site link, download', () => {
  const specs = measurementPairs(planNetwork(loadTopology('geo3')))
  const rate = (from: string, to: string) => specs.find((s) => s.from === from && s.to === to)
  assert.equal(specs.length, 12)
  assert.equal(rate('us1', 'us2')!.specMbit, 1000)
  assert.deepEqual(rate('us1', 'eu1'), { from: 'us1', to: 'eu1', specMbit: 100, latencyMs: 40 })
  assert.equal(rate('asia1', 'eu1')!.specMbit, 50)
  assert.equal(rate('asia1', 'us1')!.specMbit, 20)
  const home = measurementPairs(planNetwork(loadTopology('home')))
  // A ring over six peers: each access link is crossed once up and once down.
  assert.deepEqual(
    home.map((s) => [s.from, s.to, s.specMbit]),
    [
      ['home1', 'home2', 8],
      ['home2', 'home3', 16],
      ['home3', 'home4', 25],
      ['home4', 'home5', 40],
      ['home5', 'home6', 60],
      ['home6', 'home1', 8],
    ],
  )
})

test('shaping: each peer upload and download, and one class per incoming site link', () => {
  const cmds = shapingCommands(planNetwork(loadTopology('geo3')))
  const rootQdiscs = cmds.filter((c) => c.args.includes('root'))
  assert.equal(rootQdiscs.length, 6 * 2 + 3)
  const classes = cmds.filter((c) => c.args[0] === 'class')
  const rateOf = (dev: string, classid: string) => {
    const c = classes.find((x) => x.args[3] === dev && x.args[7] === classid)!
    return c.args[c.args.indexOf('rate') + 1]
  }
  assert.equal(rateOf('atoll-s0', '1:11'), '104558kbit') // eu (site 1) into us (site 0), plus headers
  assert.equal(rateOf('atoll-s0', '1:12'), '20912kbit') // asia into us
  assert.equal(rateOf('atoll-s2', '1:11'), '52279kbit') // eu into asia
  assert.equal(rateOf('atoll0', '1:10'), '1045580kbit')
  const filters = cmds.filter((c) => c.args[0] === 'filter' && c.args[3] === 'atoll-s2')
  assert.deepEqual(
    filters.map((f) => f.args.slice(-4)),
    [
      ['src', '10.77.1.0/24', 'flowid', '1:10'],
      ['src', '10.77.2.0/24', 'flowid', '1:11'],
    ],
  )
})
