/** A stage's inbox: what it expects arrives once, in any order; what it does not expect is dropped with the reason. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type TensorHeader, WIRE_VERSION } from '@atoll/compress'
import type { IncomingTensor } from '@atoll/net'
import { JobMailbox } from '../src/job/mailbox.ts'

const A = 'peer-a'
const B = 'peer-b'

function message(fields: Partial<TensorHeader> & { from?: string }): IncomingTensor {
  const { from = A, ...header } = fields
  return {
    from,
    header: {
      v: WIRE_VERSION,
      job: 'j',
      step: 0,
      mb: 0,
      edge: 'act:h',
      dtype: 'float32',
      shape: [2, 3],
      codec: 'raw',
      codecMeta: {},
      bytes: 24,
      ...header,
    },
    payload: new Uint8Array(24),
  }
}

function mailbox(): JobMailbox {
  const box = new JobMailbox(2)
  box.expect('act:h', { from: A, dtype: 'float32', shape: [2, 3] })
  box.expect('grad:h', { from: B, dtype: 'float32', shape: [2, 3] })
  box.expect('tied:w', { from: B, dtype: 'float32', shape: [4] })
  return box
}

test('a message that arrives before it is asked for is kept, one asked for first is handed over on arrival', async () => {
  const box = mailbox()
  const early = message({ mb: 1 })
  assert.equal(box.put(early), undefined)
  assert.equal(await box.take(0, 1, 'act:h', A), early)
  const waiting = box.take(0, 0, 'grad:h', B)
  const late = message({ edge: 'grad:h', from: B })
  assert.equal(box.put(late), undefined)
  assert.equal(await waiting, late)
})

test('late, duplicated, foreign and misshapen messages are dropped, each with its reason', () => {
  const box = mailbox()
  box.begin(3)
  const cases: [IncomingTensor, RegExp][] = [
    [message({ step: 2 }), /step 2 is not this step \(3\) or the next/],
    [message({ step: 5 }), /step 5 is not this step \(3\) or the next/],
    [message({ step: 3, edge: 'act:other' }), /edge 'act:other' is not one this stage receives/],
    [message({ step: 3, from: B }), /edge 'act:h' does not come from peer-b/],
    [message({ step: 3, mb: 2 }), /micro-batch 2 is not one of 0…1/],
    [message({ step: 3, shape: [3, 2] }), /carries float32\[2,3\], not float32\[3,2\]/],
    [message({ step: 3, dtype: 'int64', bytes: 48 }), /carries float32\[2,3\], not int64\[2,3\]/],
  ]
  for (const [msg, reason] of cases) assert.match(box.put(msg)?.reason ?? 'kept', reason)
  assert.equal(box.put(message({ step: 3 })), undefined)
  assert.deepEqual(box.put(message({ step: 3 })), {
    kind: 'duplicate',
    reason: 'a duplicate of step 3, micro-batch 0',
  })
  // the next step's may come early (a faster stage); a tied-weight gradient's micro-batch is its sender's stage
  assert.equal(box.put(message({ step: 4 })), undefined)
  assert.equal(
    box.put(message({ step: 3, edge: 'tied:w', from: B, mb: 7, shape: [4], bytes: 16 })),
    undefined,
  )
})

test('a new step drops what is left of earlier ones; an abort fails the waits in hand', async () => {
  const box = mailbox()
  assert.equal(box.put(message({ step: 0 })), undefined)
  box.begin(1)
  const waiting = box.take(0, 0, 'act:h', A)
  box.fail('step 1 aborted')
  await assert.rejects(waiting, { name: 'JobAbortedError', message: 'step 1 aborted' })
  // the dropped step-0 message is gone: a new wait for it would never be answered by the old one
  assert.equal(box.put(message({ step: 0 }))?.kind, 'late')
})
