/** A job's boundary codecs from the plan: adjacent boundaries as planned, a skipping value by the fences it crosses. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { BoundaryCodec } from '@atoll/sched'
import { boundaryCodec } from '../src/job/boundary-codec.ts'

const plan = (boundaries: BoundaryCodec[]) => ({ boundaries })
const dense = (from: number): BoundaryCodec => ({ from, to: from + 1, codec: 'dense', keepRatio: 1 })

test('an edge between consecutive stages takes its boundary codec', () => {
  const p = plan([dense(0), { from: 1, to: 2, codec: 'topk-fp16', keepRatio: 0.2 }, dense(2)])
  assert.deepEqual(boundaryCodec(p, { from: 0, to: 1 }), { codec: 'dense', keep: 1 })
  assert.deepEqual(boundaryCodec(p, { from: 1, to: 2 }), { codec: 'topk-fp16', keep: 0.2 })
  assert.deepEqual(
    boundaryCodec(plan([{ from: 0, to: 1, codec: 'int8', keepRatio: 1 }]), { from: 0, to: 1 }),
    {
      codec: 'int8',
      keep: 1,
    },
  )
})

test('a value that skips stages crosses the fences between them: the tightest codec it spans', () => {
  const p = plan([
    dense(0),
    { from: 1, to: 2, codec: 'fp16', keepRatio: 1 },
    { from: 2, to: 3, codec: 'topk-fp16', keepRatio: 0.3 },
    dense(3),
  ])
  assert.deepEqual(boundaryCodec(p, { from: 0, to: 2 }), { codec: 'fp16', keep: 1 })
  assert.deepEqual(boundaryCodec(p, { from: 0, to: 4 }), { codec: 'topk-fp16', keep: 0.3 })
  assert.deepEqual(boundaryCodec(p, { from: 3, to: 4 }), { codec: 'dense', keep: 1 })
  assert.deepEqual(boundaryCodec(plan([dense(0), dense(1)]), { from: 0, to: 2 }), { codec: 'dense', keep: 1 })
})
