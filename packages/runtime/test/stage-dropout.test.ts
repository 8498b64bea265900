/**
 * Stage graphs decompose training ops before differentiation, which gives a training Dropout the
 * mask output its gradient reuses: stashing keeps that mask, recomputing would draw another, so a
 * recomputing stage with Dropout is refused rather than silently given wrong gradients.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { crossEntropyLoss, float32, type Graph, int64, linear, ModelBuilder, TARGETS_NAME } from '@atoll/core'
import { type Backend, nodeBackends, pipelineModel } from '../src/index.ts'

const cpu: Backend = await nodeBackends().resolve('cpu')

function dropoutModel(): Graph {
  const m = new ModelBuilder({ seed: 1, opset: 17 })
  const x = m.input('x', [4, 3])
  const h = m.scope('fc', () => linear(m, x, 5))
  const ratio = m.constant(float32([], [0.5]))
  const on = m.constant({ dtype: 'bool', shape: [], data: Uint8Array.of(1) })
  const dropped = m.op('Dropout', [h, ratio, on], [4, 5])
  const targets = m.input(TARGETS_NAME, [4], 'int64')
  crossEntropyLoss(m, dropped, targets)
  return m.build()
}

const batch = {
  x: float32(
    [4, 3],
    Array.from({ length: 12 }, (_, i) => i / 7),
  ),
  targets: int64([4], [0, 1, 2, 3]),
}

test('a training Dropout trains when stashed and is refused when recomputed', async () => {
  for (const policy of ['stash', 'recompute'] as const) {
    const { pipeline } = pipelineModel(dropoutModel(), { backend: cpu, policy, fuseLossStage: false })
    try {
      if (policy === 'stash') assert.ok(Number.isFinite((await pipeline.step(batch)).loss))
      else
        await assert.rejects(pipeline.step(batch), { name: 'SessionError', message: /Dropout .*recomputed/ })
    } finally {
      await pipeline.release()
    }
  }
})
