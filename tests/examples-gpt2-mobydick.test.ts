/**
 * examples/gpt2-mobydick as a process, in a short configuration: the training loss falls, the
 * held-out loss falls from its untrained value (ln 256 ≈ 5.55 for bytes), and a sample follows the prompt.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { nextTokenModel } from '../examples/gpt2-mobydick/src/generate.ts'
import { exportOnnx, GPT2_CONFIGS, gpt2, int64 } from '../packages/core/src/index.ts'
import { nodeBackends, parametersOf } from '../packages/runtime/src/index.ts'
import { runScript, scratchDir } from './helpers/atoll.ts'

const work = scratchDir('atoll-example-gpt-')
const example = (...args: string[]) => runScript('examples/gpt2-mobydick/src/main.ts', args)

test('gpt2-mobydick: 80 byte-level steps lower the training and held-out loss, then sample', () => {
  const log = join(work, 'steps.jsonl')
  const r = example(
    ...['--steps', '80', '--batch-size', '8', '--eval-batches', '4', '--log-every', '40'],
    ...['--sample', '40', '--prompt', 'The whale', '--log', log],
  )
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stderr, /step 80\/80 {2}loss/)
  const s = JSON.parse(r.stdout)
  assert.equal(s.model, 'gpt2:tiny')
  assert.equal(s.tokens, 'bytes')
  assert.ok(Math.abs(s.heldOutLossBefore - Math.log(256)) < 0.2, `untrained loss ${s.heldOutLossBefore}`)
  assert.ok(s.lastLoss < s.firstLoss - 0.8, `training loss ${s.firstLoss} → ${s.lastLoss}`)
  assert.ok(s.heldOutLossAfter < s.heldOutLossBefore - 1.5, `held-out ${s.heldOutLossAfter}`)
  // 40 sampled bytes after the prompt (fewer characters only where bytes formed multi-byte UTF-8)
  assert.ok(s.sample.startsWith('The whale') && s.sample.length > 'The whale'.length + 20, s.sample)
  const steps = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).step)
  assert.deepEqual(
    steps,
    Array.from({ length: 80 }, (_, i) => i),
  )
})

test('gpt2-mobydick: a sequence longer than the context is a usage error', () => {
  const r = example('--seq', '64', '--steps', '1')
  assert.equal(r.status, 2)
  assert.match(r.stderr, /UsageError: --seq 64 exceeds the tiny context of 32/)
})

test('gpt2-mobydick sampler: next-token logits ignore the padding and match the training graph', async () => {
  const config = GPT2_CONFIGS.tiny
  const zoo = gpt2({ config, seed: 3 })
  const params = parametersOf(zoo.graph)
  const backend = await nodeBackends().resolve('cpu')
  const model = await nextTokenModel({ config, seq: config.ctx, params, backend })
  const context = Array.from(new TextEncoder().encode('The whale'))
  const maxDiff = (a: Float32Array, b: Float32Array) => Math.max(...a.map((x, i) => Math.abs(x - b[i])))
  try {
    const zeros = await model.logitsAfter(context, 0)
    assert.ok(maxDiff(zeros, await model.logitsAfter(context, 200)) < 1e-5, 'padding leaked into the logits')
    // not vacuous: one more real token does change them
    assert.ok(
      maxDiff(await model.logitsAfter([...context, 0]), await model.logitsAfter([...context, 200])) > 1e-3,
    )
    // the training graph (weights as initializers, loss appended) on the same window
    const session = await backend.createSession({ onnx: exportOnnx(zoo.graph) })
    const window = [...context, ...new Array(config.ctx - context.length).fill(7)]
    const out = await session.run({
      input_ids: int64([1, config.ctx], window),
      targets: int64([1, config.ctx], new Array(config.ctx).fill(0)),
    })
    const logits = (await out[zoo.logits].read()).data as Float32Array
    await session.release()
    const at = context.length - 1
    assert.ok(maxDiff(zeros, logits.slice(at * config.vocab, (at + 1) * config.vocab)) < 1e-4)
  } finally {
    await model.release()
  }
})
