import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  loadTopology,
  parseTopology,
  parseTopologyText,
  presetNames,
  type TopologyError,
  topologyDocument,
  withPeersPerSite,
} from '../src/index.ts'

const geo2 = () => ({
  name: 'geo2',
  sites: [
    { name: 'a', rate_mbit: 1000, peers: ['a1', { name: 'a2', access_mbit: 10 }] },
    { name: 'b', rate_mbit: 500, peers: [{ name: 'b1', up_mbit: 5, down_mbit: 50 }] },
  ],
  links: [{ sites: ['a', 'b'], rate_mbit: 100, latency_ms: 30 }],
})

/** Asserts that parsing `doc` fails with a TopologyError at `path` whose message matches `re`. */
function rejects(doc: unknown, path: string, re: RegExp) {
  assert.throws(
    () => parseTopology(doc),
    (err: TopologyError) => err.name === 'TopologyError' && err.path === path && re.test(err.message),
  )
}

test('a valid topology becomes typed sites, peers and links', () => {
  const t = parseTopology(geo2())
  assert.equal(t.name, 'geo2')
  assert.deepEqual(t.sites[0].peers, [{ name: 'a1' }, { name: 'a2', upMbit: 10, downMbit: 10 }])
  assert.deepEqual(t.sites[1].peers, [{ name: 'b1', upMbit: 5, downMbit: 50 }])
  assert.deepEqual(t.links, [{ sites: ['a', 'b'], rateMbit: 100, latencyMs: 30 }])
})

test('errors name the bad field by path', () => {
  const bad = (f: (d: ReturnType<typeof geo2>) => void) => {
    const d = geo2()
    f(d)
    return d
  }
  rejects(
    bad((d) => ((d.sites[1].peers as unknown[])[0] = { name: 'B 1' })),
    'sites[1].peers[0].name',
    /^sites\[1\]\.peers\[0\]\.name: expected a string matching \/\^\[a-z\]\[a-z0-9-\]\{0,14\}\$\/, found "B 1"$/,
  )
  rejects(
    bad((d) => (d.sites[0].rate_mbit = -1)),
    'sites[0].rate_mbit',
    /^sites\[0\]\.rate_mbit: expected a rate in Mbit\/s in \(0, 100000\], found -1$/,
  )
  rejects(
    bad((d) => ((d.sites[0] as Record<string, unknown>).rate = 5)),
    'sites[0].rate',
    /^sites\[0\]\.rate: expected one of the fields name, rate_mbit, peers, found an unknown field$/,
  )
  rejects(
    bad((d) => (d.links[0].sites = ['a', 'c'])),
    'links[0].sites[1]',
    /no site named 'c'/,
  )
  rejects(
    bad((d) => (d.links[0].sites = ['a', 'a'])),
    'links[0].sites',
    /two different sites/,
  )
  rejects(
    bad((d) => (d.links = [])),
    'links',
    /no link between sites 'a' and 'b'/,
  )
  rejects(
    bad((d) => d.links.push({ sites: ['b', 'a'], rate_mbit: 5, latency_ms: 1 })),
    'links[1].sites',
    /second link/,
  )
  rejects(
    bad((d) => (d.links[0].latency_ms = -3)),
    'links[0].latency_ms',
    /^links\[0\]\.latency_ms: expected a number of ms in \[0, 10000\], found -3$/,
  )
  rejects(
    bad((d) => (d.sites[1].peers = ['a1'])),
    'sites[1].peers[0].name',
    /duplicate peer name 'a1'/,
  )
  rejects(
    bad((d) => (d.sites[1].name = 'a')),
    'sites[1].name',
    /duplicate site name/,
  )
  rejects(
    bad((d) => (d.sites[0].peers = [])),
    'sites[0].peers',
    /at least 1/,
  )
  // the router's namespace; the coordinator's key and the shared folder beside the peers' folders
  for (const name of ['router', 'coordinator', 'shared'])
    rejects(
      bad((d) => (d.sites[0].peers = [name])),
      'sites[0].peers[0].name',
      /reserved/,
    )
  rejects(
    bad((d) => (d.links[0].sites = ['a', 'b', 'c'])),
    'links[0].sites',
    /expected a list of 2 items, found a list of 3 items/,
  )
  rejects(
    bad((d) => ((d.sites[0].peers as unknown[])[1] = 7)),
    'sites[0].peers[1]',
    /expected a string matching .* or an object, found 7$/,
  )
  rejects(
    bad((d) => ((d.sites[0].peers as unknown[])[1] = { name: 'a2', up_mbit: 'fast' })),
    'sites[0].peers[1].up_mbit',
    /expected a rate in Mbit\/s in \(0, 100000\], found "fast"$/,
  )
  rejects({ sites: 'x' }, 'sites', /expected a list of at least 1 item, found "x"/)
  rejects([], '', /^expected an object, found a list of 0 items$/)
})

test('too many peers are refused', () => {
  const peers = Array.from({ length: 65 }, (_, i) => `p${i}`)
  rejects({ sites: [{ name: 'a', rate_mbit: 1, peers }] }, 'sites', /at most 64 peers/)
})

test('YAML and JSON text parse, and errors say which file', () => {
  const t = parseTopologyText('sites:\n  - name: x\n    rate_mbit: 10\n    peers: [x1, x2]\n', 'mine.yaml')
  assert.equal(t.name, 'mine')
  assert.equal(parseTopologyText(JSON.stringify(geo2()), 'g.json').sites.length, 2)
  assert.throws(() => parseTopologyText('sites: [', 'broken.yaml'), /broken.yaml is not valid YAML/)
  assert.throws(
    () => parseTopologyText('sites: [{ name: x, rate_mbit: 0, peers: [x1] }]', 'zero.yaml'),
    /^TopologyError: sites\[0\].rate_mbit: .*\(in zero.yaml\)$/s,
  )
})

test('the presets are exactly those of the issue and the pipeline benchmark (geo2)', () => {
  assert.deepEqual(presetNames(), ['geo2', 'geo3', 'geo3-large', 'home', 'lan', 'lan100'])
  const lan = loadTopology('lan')
  assert.equal(lan.sites.length, 1)
  assert.equal(lan.sites[0].rateMbit, 1000)
  const geo3 = loadTopology('geo3')
  assert.deepEqual(
    geo3.sites.map((s) => [s.name, s.rateMbit, s.peers.length]),
    [
      ['us', 1000, 2],
      ['eu', 1000, 2],
      ['asia', 1000, 2],
    ],
  )
  assert.deepEqual(
    geo3.links.map((l) => l.rateMbit).sort((a, b) => b - a),
    [100, 50, 20],
  )
  // the pipeline benchmark's: two sites of two, a 20 Mbit/s link with 10 ms one way between them
  const geo2 = loadTopology('geo2')
  assert.deepEqual(
    geo2.sites.map((s) => [s.name, s.rateMbit, s.peers.map((p) => p.name)]),
    [
      ['a', 1000, ['a1', 'a2']],
      ['b', 1000, ['b1', 'b2']],
    ],
  )
  assert.deepEqual(geo2.links, [{ sites: ['a', 'b'], rateMbit: 20, latencyMs: 10 }])
  const large = loadTopology('geo3-large')
  assert.deepEqual(
    large.sites.map((s) => s.peers.length),
    [4, 4, 4],
  )
  assert.deepEqual(large.links, geo3.links)
  const home = loadTopology('home').sites.flatMap((s) => s.peers)
  assert.equal(home.length, 6)
  assert.equal(Math.min(...home.map((p) => p.upMbit!)), 8)
  assert.equal(Math.max(...home.map((p) => p.downMbit!)), 100)
  assert.throws(
    () => loadTopology('nosuch'),
    /no preset or file 'nosuch' \(presets: geo2, geo3, geo3-large, home, lan, lan100\)/,
  )
})

test('topologyDocument is what parseTopology reads back', () => {
  for (const name of presetNames()) {
    const t = loadTopology(name)
    assert.deepEqual(parseTopology(topologyDocument(t)), t)
  }
})

test('--peers N resizes every site, keeping the named peers first', () => {
  const t = withPeersPerSite(loadTopology('geo3'), 3)
  assert.deepEqual(
    t.sites.map((s) => s.peers.map((p) => p.name)),
    [
      ['us1', 'us2', 'us3'],
      ['eu1', 'eu2', 'eu3'],
      ['asia1', 'asia2', 'asia3'],
    ],
  )
  assert.deepEqual(withPeersPerSite(loadTopology('home'), 1).sites[0].peers, [
    { name: 'home1', upMbit: 8, downMbit: 8 },
  ])
  assert.throws(() => withPeersPerSite(loadTopology('lan'), 0), /TopologyError|whole number/)
  assert.throws(() => withPeersPerSite(loadTopology('geo3'), 40), /at most 64 peers/)
})
