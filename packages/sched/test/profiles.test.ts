import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import {
  parseLayerTimes,
  parseReferenceSchedule,
  PUBLISHED_PROFILES,
  planDreamDdp,
  scheduleWaits,
  solveContiguous,
  syncProblem,
} from '../src/index.ts'
import { sum, timeline } from '../src/dreamddp/model.ts'

/** The published DreamDDP profiles (see the README beside them for where they come from). */
const root = PUBLISHED_PROFILES
const profiles = readdirSync(root).filter((d) => !d.endsWith('.md'))
const read = (dir: string, file: string) => readFileSync(new URL(`${dir}/${file}`, root), 'utf8')

describe('DreamDDP on the published profiles', () => {
  it('all eight published profiles are here', () => {
    assert.deepEqual(profiles.sort(), [
      'Qwen2.5-7B-16w-10gbit',
      'Qwen2.5-7B-16w-1gbit',
      'Qwen2.5-7B-8w-10gbit',
      'gpt2-16w-1gbit',
      'gpt2-16w-5gbit',
      'gpt2-8w-10gbit',
      'llama2-124M-16w-10gbit',
      'llama2-124M-16w-1gbit',
    ])
  })
  for (const dir of profiles) {
    it(`${dir}: no more wait than the published schedule, and the published S-SGD time`, () => {
      const bp = parseLayerTimes(read(dir, 'bp.json'), 'bp.json')
      const comm = parseLayerTimes(read(dir, 'comm.json'), 'comm.json')
      const ref = JSON.parse(read(dir, 'reference-schedule.json'))
      const results = JSON.parse(read(dir, 'reference-results.json')).algorithm_times[`H_${ref.H}`]
      const problem = syncProblem(bp, comm, ref.H)
      assert.equal(problem.names.length, Object.keys(comm).length)
      // folding keeps the whole backward pass: Σ bp + tail = Σ of every module's backward time
      const T = timeline(problem).backwardEnd
      assert.ok(Math.abs(T - sum(Object.values(bp))) < 1e-9)
      const published = parseReferenceSchedule(ref, problem)
      const refWait = sum(scheduleWaits(published, problem))
      // the published solver gives each iteration a contiguous run of layers (backward order), so
      // the contiguous DP, optimal among such schedules, must already match or beat it
      assert.ok(published.every((its, l) => its.length === 1 && (l === 0 || its[0] >= published[l - 1][0])))
      assert.ok(solveContiguous(problem).waitPerPeriod <= refWait + 1e-12)
      const plan = planDreamDdp(problem)
      assert.ok(plan.waitPerPeriod <= refWait + 1e-12, `${plan.waitPerPeriod} > published ${refWait}`)
      assert.ok(plan.lowerBound <= plan.waitPerPeriod + 1e-12)
      // the published model's S-SGD is backward + every all-reduce: ours agrees to rounding
      assert.ok(Math.abs(plan.baselines.ssgd - results.sgd) < 1e-9 * results.sgd)
      for (const its of Object.values(plan.schedule)) assert.ok(its.length >= 1)
    })
  }
})

describe('profile parsing', () => {
  it('reads NaN as 0 and names a bad layer', () => {
    assert.deepEqual(parseLayerTimes('{"a": NaN, "b": 0.5, "c": null}'), { a: 0, b: 0.5, c: 0 })
    assert.throws(() => parseLayerTimes('{"a": -1}', 'bp.json'), {
      name: 'InvalidFieldError',
      message: /^bp\.json\.a: expected seconds, a finite number ≥ 0 \(or NaN\), found -1$/,
    })
    assert.throws(() => parseLayerTimes('{"a": "x"}', 'bp.json'), { name: 'InvalidFieldError' })
    assert.throws(() => parseLayerTimes('[1]', 'bp.json'), {
      name: 'InvalidFieldError',
      message: /^bp\.json:/,
    })
    assert.throws(() => parseLayerTimes('{', 'bp.json'), { name: 'ProfileParseError' })
  })

  it('folds modules without an all-reduce into the next synchronised layer, backward order', () => {
    // forward: emb (no comm), q, drop (no comm), k, norm (no comm)
    const bp = { emb: 1, q: 2, drop: 4, k: 8, norm: 16 }
    const p = syncProblem(bp, { q: 0.1, k: 0.2 }, 2)
    assert.deepEqual(p.names, ['k', 'q'])
    assert.deepEqual(p.bp, [24, 6])
    assert.equal(p.tail, 1)
  })

  it('rejects bp and comm of different models, and a profile with no synchronised layer', () => {
    assert.throws(() => syncProblem({ a: 1, b: 1 }, { a: 1, c: 1 }, 2), {
      name: 'UnknownReferenceError',
      message: /'c'/,
    })
    assert.throws(() => syncProblem({ a: 1 }, {}, 2), { name: 'InvalidFieldError', message: /^comm/ })
  })

  it('checks a reference schedule against the problem', () => {
    const p = syncProblem({ a: 1, b: 1 }, { a: 1, b: 1 }, 2)
    assert.deepEqual(parseReferenceSchedule({ H: 2, schedule: { a: 0, b: [1, 0] } }, p), [[0, 1], [0]])
    assert.throws(() => parseReferenceSchedule({ H: 2, schedule: { a: 2, b: 0 } }, p), {
      name: 'InvalidFieldError',
      message: /^schedule\.schedule\.a: expected an integer in \[0, 2\), found 2$/,
    })
    assert.throws(() => parseReferenceSchedule({ H: 3, schedule: {} }, p), {
      name: 'InvalidFieldError',
      message: /^schedule\.H: expected the period 2, found 3$/,
    })
  })
})
