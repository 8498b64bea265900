/**
 * `atoll plan dreamddp` and `atoll plan fence` end to end, as processes: on the published DreamDDP
 * profiles (shipped with sched), on generated peer and link files, and on bad input.
 */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'
import {
  parseLayerTimes,
  PUBLISHED_PROFILES,
  parseReferenceSchedule,
  scheduleWaits,
  syncProblem,
} from '../packages/sched/src/index.ts'
import { atoll, repoRoot, scratchDir } from './helpers/atoll.ts'

const profiles = fileURLToPath(PUBLISHED_PROFILES)
const work = scratchDir('atoll-plan-')
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'))

describe('atoll plan dreamddp', () => {
  for (const name of ['gpt2-8w-10gbit', 'Qwen2.5-7B-8w-10gbit']) {
    it(`plans ${name} no worse than the published schedule`, () => {
      const dir = join(profiles, name)
      const out = join(work, `${name}.json`)
      const r = atoll(
        'plan',
        'dreamddp',
        '--bp',
        join(dir, 'bp.json'),
        '--comm',
        join(dir, 'comm.json'),
        '--period',
        '10',
        '--json',
        out,
      )
      assert.equal(r.status, 0, r.stderr)
      assert.match(r.stdout, /DreamDDP, H = 10: wait/)
      const plan = readJson(out)
      for (const key of ['schedule', 'waitPerPeriod', 'waitPerIteration', 'iterationTime', 'baselines'])
        assert.ok(key in plan, key)
      const comm = parseLayerTimes(readFileSync(join(dir, 'comm.json'), 'utf8'))
      assert.deepEqual(Object.keys(plan.schedule).sort(), Object.keys(comm).sort())
      assert.equal(plan.waitPerIteration.length, 10)
      // re-evaluate the written schedule independently, and compare with the published one
      const problem = syncProblem(parseLayerTimes(readFileSync(join(dir, 'bp.json'), 'utf8')), comm, 10)
      const ours = problem.names.map((n) => plan.schedule[n] as number[])
      const wait = scheduleWaits(ours, problem).reduce((a, b) => a + b, 0)
      assert.ok(Math.abs(wait - plan.waitPerPeriod) < 1e-9)
      const published = parseReferenceSchedule(readJson(join(dir, 'reference-schedule.json')), problem)
      assert.ok(wait <= scheduleWaits(published, problem).reduce((a, b) => a + b, 0) + 1e-12)
    })
  }
})

describe('atoll plan dreamddp on bad input', () => {
  it('names the bad layer, the missing flag, the bad period', () => {
    const bp = join(work, 'bp.json')
    const comm = join(work, 'comm.json')
    writeFileSync(bp, '{"a": 0.1, "b": NaN}')
    writeFileSync(comm, '{"a": 0.1, "b": -2}')
    const bad = atoll('plan', 'dreamddp', '--bp', bp, '--comm', comm, '--period', '2')
    assert.equal(bad.status, 1)
    assert.match(
      bad.stderr,
      /InvalidFieldError: .*comm\.json\.b: expected seconds, a finite number ≥ 0 \(or NaN\), found -2/,
    )
    const missing = atoll('plan', 'dreamddp', '--bp', bp, '--period', '2')
    assert.equal(missing.status, 2)
    assert.match(missing.stderr, /--comm is required/)
    const period = atoll('plan', 'dreamddp', '--bp', bp, '--comm', bp, '--period', '1.5')
    assert.equal(period.status, 2)
    assert.match(period.stderr, /--period: expected an integer in \[1, 255\], found "1\.5"/)
    assert.equal(atoll('plan', 'nothing').status, 2)
    const out = atoll(
      'plan',
      'dreamddp',
      '--bp',
      bp,
      '--comm',
      bp,
      '--period',
      '2',
      '--json',
      '/no-such-folder/x.json',
    )
    assert.equal(out.status, 2)
    assert.match(out.stderr, /--json: cannot write/)
    assert.equal(out.stdout, '', 'refused before planning')
    // bp and comm of different models: refused, not planned with free backward times
    writeFileSync(comm, '{"a": 0.1, "z": 0.2}')
    const mismatch = atoll('plan', 'dreamddp', '--bp', bp, '--comm', comm, '--period', '2')
    assert.equal(mismatch.status, 1)
    assert.match(
      mismatch.stderr,
      /UnknownReferenceError: 1 of 2 comm layers have no backward time in bp \(first: 'z'\)/,
    )
  })
})

describe('atoll plan fence', () => {
  const peers = ['us', 'eu', 'asia'].flatMap((site) =>
    [1, 2, 3, 4].map((i) => ({ id: `${site}${i}`, device: 'cpu', flops: 1e12, memoryBytes: 16e9 })),
  )
  const links = peers.flatMap((a, i) =>
    peers.slice(i + 1).map((b) => {
      const same = a.id.slice(0, 2) === b.id.slice(0, 2)
      return { a: a.id, b: b.id, bandwidthBps: same ? 1.25e9 : 12.5e6, rttSeconds: same ? 0.0005 : 0.05 }
    }),
  )
  const peersFile = join(work, 'peers.json')
  const linksFile = join(work, 'links.json')
  writeFileSync(peersFile, JSON.stringify(peers))
  writeFileSync(linksFile, JSON.stringify(links))
  /** `atoll plan fence` over the three-site peers and links, with `model` and further flags */
  const fence = (model: string, ...flags: string[]) =>
    atoll('plan', 'fence', '--peers', peersFile, '--links', linksFile, '--model', model, ...flags)

  it('plans a zoo GPT-2 over three sites and reports the even baseline', () => {
    const out = join(work, 'fence.json')
    const r = fence('gpt2:mini', '--micro-batches', '4', '--bind', 'batch=16', '--json', out)
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /op-fence: \d+ stage\(s\)/)
    assert.match(r.stdout, /even baseline: .* slower/)
    const plan = readJson(out)
    assert.ok(plan.predictedStepSeconds > 0 && plan.evenStepSeconds > 0)
    assert.equal(plan.speedupOverEven, plan.evenStepSeconds / plan.predictedStepSeconds)
    assert.equal(plan.plan.microBatches, 4)
    assert.equal(plan.plan.clusters.length, 3)
    assert.equal(plan.baseline.algorithm, 'even')
    const local = fence('gpt2:mini', '--sync', 'local-sgd:5', '--json', out)
    assert.equal(local.status, 0, local.stderr)
    assert.deepEqual(readJson(out).plan.sync, { algorithm: 'local-sgd', period: 5 })
    assert.equal(fence('gpt2:mini', '--sync', 'gossip').status, 2)
  })

  it('plans an imported ONNX model (a PyTorch-exported GPT fixture of core)', () => {
    const onnx = join(repoRoot, 'packages/core/test/fixtures/gpt.ts17.onnx')
    const r = fence(onnx)
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /op-fence: \d+ stage\(s\) on 3 cluster\(s\)/)
    // the export has static shapes: a binding would be silently ignored, so it is refused
    const bound = fence(onnx, '--bind', 'batch=4')
    assert.equal(bound.status, 2)
    assert.match(bound.stderr, /not a symbolic input dimension of the model \(none\)/)
  })

  it('names the bad field of a peers file, and rejects an unknown model', () => {
    const badPeers = join(work, 'bad-peers.json')
    writeFileSync(badPeers, JSON.stringify([{ ...peers[0], memoryBytes: 'lots' }, ...peers.slice(1)]))
    const bad = atoll('plan', 'fence', '--peers', badPeers, '--links', linksFile, '--model', 'gpt2:tiny')
    assert.equal(bad.status, 1)
    assert.match(
      bad.stderr,
      /InvalidFieldError: .*bad-peers\.json\[0\]\.memoryBytes: expected a finite number > 0, found "lots"/,
    )
    const model = fence('gpt2:huge')
    assert.equal(model.status, 2)
    assert.match(model.stderr, /gpt2:CONFIG wants one of tiny, mini, d384, small, 124M/)
    const typo = fence('gpt2:tiny', '--bind', 'btach=4')
    assert.equal(typo.status, 2)
    assert.match(typo.stderr, /--bind names 'btach', not a symbolic input dimension of the model \(batch\)/)
    const notJson = atoll(
      'plan',
      'fence',
      '--peers',
      linksFile.replace('.json', '.nope'),
      '--links',
      linksFile,
      '--model',
      'gpt2:tiny',
    )
    assert.equal(notJson.status, 2)
    assert.match(notJson.stderr, /--peers: cannot read/)
  })
})
