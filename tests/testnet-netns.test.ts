/**
 * End to end, as root: `atoll testnet up --topology geo3` in network namespaces with an `atoll peer`
 * daemon in each, the site latency seen by the daemons' probes, every shaped link measured within 10%
 * of its spec, a tensor exchange between all peers, a job trained across the sites by `atoll train`
 * run through `exec` (OP-Fence's clusters are the sites; a coordinator the daemons do not allow is
 * refused), and `down` leaving no namespace or daemon behind; `atoll bench pipeline` over a testnet
 * of its own (geo2). Skipped when not root.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import {
  isAlive,
  isRoot,
  type MeasuredLink,
  type TestnetState,
  testnetNamespaces,
} from '../packages/testnet/src/index.ts'
import { atollMain } from './helpers/peer-process.ts'
import { clustersByName, pollPeers, testnetCli, trainOnTestnet } from './helpers/testnet.ts'

const cli = testnetCli('atoll-testnet-')
const { dir, atoll } = cli
/** The spec is a ceiling: a measurement can fall short when the two cores are busy, never overshoot. */
const TOLERANCE = 0.1
/** The fastest link the probe is asked to measure exactly (see below). */
const PROBE_CAN_FILL_MBIT = 100
/**
 * Faster links are CPU-bound in the probe: on two shared cores a 1 Gbit/s link read 52–99% of its
 * spec on a quiet machine (docs/testnet.md), 41% in a CI run beside other work and 20% in one beside
 * a benchmark (load 5); 15 % keeps clear of that and still fails a link shaped or carried at 100
 * Mbit/s (at most 110 with the tolerance: the regression it guards).
 */
const CPU_BOUND_FLOOR = 0.15

const skip = !isRoot()
  ? 'needs root (network namespaces and tc)'
  : testnetNamespaces().length > 0
    ? `a testnet is up on this machine (${testnetNamespaces().join(', ')}); run \`atoll testnet down\``
    : false

after(() => {
  if (!skip) atoll('testnet', 'down', '--backend', 'netns')
  rmSync(dir, { recursive: true, force: true })
})

const measure = (...flags: string[]): MeasuredLink[] => {
  const json = join(dir, 'links.json')
  const st = atoll('testnet', 'status', '--measure', '--json', json, ...flags)
  assert.equal(st.status, 0, st.stderr)
  return (JSON.parse(readFileSync(json, 'utf8')) as { links: MeasuredLink[] }).links
}

/** A coordinator from outside the testnet, let in with `up --allow`. */
const OUTSIDE_COORDINATOR = '12D3KooWGzZbSeXvuVNT1r8hMj7SLdYkaZUbG4SKTeUWuDVUVxmH'

test('geo3 in namespaces: up, shaped links, tensor exchange, a job across the sites, down', {
  skip,
  timeout: 600_000,
}, async (t) => {
  // a failed assertion must not leave the testnet up for the tests after it (down is idempotent)
  t.after(() => atoll('testnet', 'down', '--backend', 'netns'))
  const upRun = atoll('testnet', 'up', '--topology', 'geo3', '--allow', OUTSIDE_COORDINATOR)
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
  const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as TestnetState
  assert.ok(
    state.peers.every((p) => p.multiaddr?.startsWith(`/ip4/${p.address}/tcp/`)),
    'every daemon reported its address',
  )
  // Every link through /atoll/probe/1, the daemons probing each other (with the site latency) while
  // the measurement holds their probe floor, right after `up` while their own start-up probes are
  // due: within ±10%. Noise and yamux in JS on two shared cores cannot always fill 1 Gbit/s (the probe
  // then reads what the stack carries), so those links are checked within [CPU_BOUND_FLOOR, 1.1].
  // The first reading of each link (one probe, as the daemons' own are) is never above the best.
  const probed = measure('--seconds', '1.5', '--retries', '1')
  assert.ok(probed.every((l) => l.via === 'probe'))
  for (const l of probed) {
    const ratio = l.measured_mbit / l.spec_mbit
    const low = l.spec_mbit <= PROBE_CAN_FILL_MBIT ? 1 - TOLERANCE : CPU_BOUND_FLOOR
    assert.ok(
      ratio >= low && ratio <= 1 + TOLERANCE,
      `probe ${l.from} → ${l.to}: ${l.measured_mbit} for ${l.spec_mbit}`,
    )
    assert.ok(l.first_mbit > 0 && l.first_mbit <= l.measured_mbit, JSON.stringify(l))
  }
  // a daemon probes for at most 5 s, said by the CLI before anything starts
  const tooLong = atoll('testnet', 'status', '--measure', '--seconds', '10')
  assert.equal(tooLong.status, 2, tooLong.stderr)
  assert.match(tooLong.stderr, /UsageError: --seconds: expected a finite number in \[0\.5, 5\], found "10"/)

  // Latency is the daemons' own (userspace): us1's probes (the measurement's among them) see
  // ~2 × 40 ms to eu1, next to nothing to us2. A loaded machine (the Docker test may run beside this
  // one) adds scheduling delay to both readings, so the intra-site one is held below the inter-site
  // one, not below a fixed bound.
  const rtt = await probedRtts('us1', ['us2', 'eu1'])
  assert.ok(rtt.eu1 >= 2 * 40, `us1 → eu1 round trip ${rtt.eu1} ms`)
  assert.ok(rtt.us2 < rtt.eu1, `us1 → us2 round trip ${rtt.us2} ms, to eu1 ${rtt.eu1} ms`)

  const again = atoll('testnet', 'up', '--topology', 'lan', '--no-peers')
  assert.equal(again.status, 1)
  assert.match(again.stderr, /TestnetAlreadyUpError: testnet 'geo3'/)

  // The kernel shaping itself, with raw TCP: every link within 10% of its spec.
  const tcp = measure('--tcp', '--seconds', '1.5', '--retries', '2')
  assert.equal(tcp.length, 12)
  assert.deepEqual(
    [...new Set(tcp.map((l) => l.spec_mbit))].sort((a, b) => a - b),
    [20, 50, 100, 1000],
  )
  for (const l of tcp) {
    const measured = l.measured_mbit
    // raw TCP fills 100 Mbit/s exactly; at 1 Gbit/s it read 73 % in a CI run beside other tests (two
    // loaded cores, not tc, bound it), so there the cap is checked, and the probe's floor
    const low = l.spec_mbit <= PROBE_CAN_FILL_MBIT ? 1 - TOLERANCE : CPU_BOUND_FLOOR
    const ratio = measured / l.spec_mbit
    assert.ok(
      ratio >= low && ratio <= 1 + TOLERANCE,
      `${l.from} → ${l.to}: ${measured} Mbit/s for ${l.spec_mbit}`,
    )
  }

  // A tensor from every peer to every other peer's daemon and back, intact.
  const echoes = join(dir, 'echoes.json')
  const ex = atoll('testnet', 'exchange', '--bytes', '65536', '--json', echoes)
  assert.equal(ex.status, 0, `${ex.stderr}\n${daemonWarnings(state)}`)
  const { echoes: got } = JSON.parse(readFileSync(echoes, 'utf8')) as {
    echoes: { from: string; to: string }[]
  }
  assert.equal(got.length, 6 * 5)
  assert.equal(new Set(got.map((e) => `${e.from}>${e.to}`)).size, 30)

  trainsAcrossTheSites(state)

  // up wrote down its coordinator, and every daemon allows it and the one given to `up --allow`
  assert.ok(state.coordinator !== undefined)
  for (const p of state.peers)
    assert.deepEqual(startLog(p.name).allow, [state.coordinator, OUTSIDE_COORDINATOR], p.name)
  // and nobody else: a coordinator with a key of its own is refused by the first daemon it asks
  const stranger = atoll(
    ...['testnet', 'exec', 'eu1', '--', 'atoll', 'train', join(dir, 'shared', 'job.yaml')],
    ...['--identity', join(dir, 'shared', 'stranger'), '--out', join(dir, 'shared', 'stranger-out')],
  )
  assert.equal(stranger.status, 1, stranger.stderr)
  assert.match(stranger.stderr, /is not on this peer's allow-list/)

  const down = atoll('testnet', 'down', '--backend', 'netns')
  assert.equal(down.status, 0, down.stderr)
  assert.deepEqual(testnetNamespaces(), [])
  for (const p of state.peers) assert.equal(isAlive(p.pid), false, `daemon of ${p.name} is gone`)
  assert.match(atoll('testnet', 'down', '--backend', 'netns').stdout, /nothing to remove/)
})

/**
 * `atoll train` in us1 through `exec`, with no flag for its key or daemon: the testnet's coordinator
 * trains the job over all six daemons, and OP-Fence, from the links the daemons probed themselves,
 * finds the three sites (1 Gbit/s inside, at most 100 Mbit/s between) as its clusters.
 */
function trainsAcrossTheSites(state: TestnetState): void {
  const summary = trainOnTestnet(cli, 'us1')
  const sites = Map.groupBy(state.peers, (p) => p.site)
  const bySite = [...sites.values()].map((peers) => peers.map((p) => p.name).sort()).sort()
  assert.deepEqual(clustersByName(summary), bySite)
  const siteOf = new Map(state.peers.map((p) => [p.name, p.site]))
  assert.deepEqual(new Set(summary.plan.stages.map((s) => siteOf.get(s.name))), new Set(sites.keys()))
}

/** What the daemon in `peer` logged when it started. */
function startLog(peer: string): { allow?: string[] } {
  const lines = readFileSync(join(dir, `${peer}.log`), 'utf8').split('\n')
  const started = lines.find((line) => line.includes('"msg":"peer started"'))
  assert.ok(started !== undefined, `${peer}'s daemon logged its start`)
  return JSON.parse(started) as { allow?: string[] }
}

/** Waits until the daemon in `peer` has probed `names`; their round trips in ms. */
function probedRtts(peer: string, names: string[]): Promise<Record<string, number>> {
  const inNamespace = { cli: [process.execPath, atollMain], dataDir: join(dir, peer) }
  const rtts = (known: { name?: string; rttMs?: number }[]) => {
    const found = Object.fromEntries(
      known.filter((k) => k.rttMs !== undefined).map((k) => [k.name, k.rttMs!]),
    )
    return names.every((n) => n in found) ? found : undefined
  }
  return pollPeers(cli, peer, inNamespace, rtts, 60_000)
}

test('after a crash (no state file) up refuses and down still removes everything', { skip }, () => {
  const up = atoll('testnet', 'up', '--topology', 'lan', '--no-peers')
  assert.equal(up.status, 0, up.stderr)
  rmSync(join(dir, 'state.json'))
  const again = atoll('testnet', 'up', '--topology', 'lan', '--no-peers')
  assert.equal(again.status, 1)
  assert.match(again.stderr, /TestnetAlreadyUpError: leftovers of an earlier testnet exist \(atoll-lan1, /)
  const down = atoll('testnet', 'down', '--backend', 'netns')
  assert.equal(down.status, 0, down.stderr)
  assert.match(down.stdout, /removed atoll-lan1, atoll-lan2, atoll-lan3, atoll-lan4, atoll-router/)
  assert.deepEqual(testnetNamespaces(), [])
})

test('per-peer access rates: upload and download are shaped separately', { skip }, () => {
  mkdirSync(dir, { recursive: true }) // `down` removes the state directory once it is empty
  const file = join(dir, 'access.yaml')
  writeFileSync(
    file,
    'sites:\n  - name: net\n    rate_mbit: 100\n    peers: [{ name: acc1, up_mbit: 10, down_mbit: 30 }, acc2]\n',
  )
  const up = atoll('testnet', 'up', '--topology', file, '--no-peers')
  assert.equal(up.status, 0, up.stderr)
  const links = measure('--seconds', '1.5', '--retries', '2')
  assert.deepEqual(
    links.map((l) => [l.from, l.to, l.spec_mbit, l.via]),
    [
      ['acc1', 'acc2', 10, 'tcp'], // acc1's upload
      ['acc2', 'acc1', 30, 'tcp'], // acc1's download
    ],
  )
  for (const l of links)
    assert.ok(
      Math.abs(l.measured_mbit / l.spec_mbit - 1) <= TOLERANCE,
      `${l.from} → ${l.to}: ${l.measured_mbit}`,
    )
  assert.equal(atoll('testnet', 'down', '--backend', 'netns').status, 0)
})

/**
 * `atoll bench pipeline --quick` as root brings up geo2 in namespaces (its daemons started one at a
 * time in the join order), trains its three runs from a coordinator exec'd into a1 with the testnet's
 * key, says `netns` in the report, and takes the testnet down; beside a testnet that is up it refuses
 * and leaves that one alone. No timing is asserted. In this file, so that it never runs beside the
 * other namespace testnets (there is one router namespace per machine).
 */
test('atoll bench pipeline as root: its own geo2 testnet, kernel-shaped, down afterwards', {
  skip,
  timeout: 300_000,
}, () => {
  mkdirSync(dir, { recursive: true })
  const json = join(dir, 'bench-pipeline.json')
  const bench = atoll('bench', 'pipeline', '--quick', '--json', json)
  assert.equal(bench.status, 0, bench.stderr.slice(-4000))
  assert.match(bench.stderr, /testnet geo2 in network namespaces .* joining a1, b1, a2, b2/)
  const report = JSON.parse(readFileSync(json, 'utf8')) as {
    details: {
      links: { kind: string; between: { mbit: number; delayMs: number }; join_order: string[] }
      figures: Record<string, { links: string }>
      runs: { label: string; stages: { peer: string }[]; peers: { name: string }[] }[]
    }
  }
  const { links, figures, runs } = report.details
  assert.equal(links.kind, 'netns')
  assert.deepEqual(links.between, { mbit: 20, delayMs: 10 })
  assert.deepEqual(links.join_order, ['a1', 'b1', 'a2', 'b2'])
  for (const [name, figure] of Object.entries(figures)) assert.equal(figure.links, 'netns', name)
  assert.deepEqual(
    runs.map((r) => r.label),
    ['fence-adatopk', 'fence-dense', 'even-dense', 'even-adatopk'],
  )
  for (const run of runs)
    assert.deepEqual(run.peers.map((p) => p.name).sort(), ['a1', 'a2', 'b1', 'b2'], run.label)
  // even places in join order, so it crosses between the sites three times
  for (const even of runs.slice(2))
    assert.deepEqual(
      even.stages.map((s) => s.peer),
      ['a1', 'b1', 'a2', 'b2'],
    )
  assert.deepEqual(testnetNamespaces(), [])
  assert.equal(existsSync(join(dir, 'state.json')), false)

  // someone's testnet is up: the suite neither uses nor removes it
  assert.equal(atoll('testnet', 'up', '--topology', 'lan', '--no-peers').status, 0)
  const beside = atoll('bench', 'pipeline', '--quick')
  assert.equal(beside.status, 1, beside.stderr)
  assert.match(beside.stderr, /a testnet is up on this machine \(lan\)/)
  assert.deepEqual(testnetNamespaces(), [
    'atoll-lan1',
    'atoll-lan2',
    'atoll-lan3',
    'atoll-lan4',
    'atoll-router',
  ])
  assert.equal(atoll('testnet', 'down', '--backend', 'netns').status, 0)
})

/** The warnings and errors the daemons logged (pino levels ≥ 40), to say why an exchange failed. */
function daemonWarnings(state: TestnetState): string {
  return state.peers
    .flatMap((p) =>
      (existsSync(join(dir, `${p.name}.log`)) ? readFileSync(join(dir, `${p.name}.log`), 'utf8') : '')
        .split('\n')
        .filter((line) => /"level":(4|5|6)\d/.test(line))
        .slice(-5)
        .map((line) => `${p.name}: ${line.slice(0, 400)}`),
    )
    .join('\n')
}
