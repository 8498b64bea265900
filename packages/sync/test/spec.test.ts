/**
 * The sync spec as a job file writes it: defaults filled in (S-SGD's period 1, DiLoCo's outer lr 0.7
 * and momentum 0.9, no compression), issue 13's `localsgd` read as sched's `local-sgd`, and every
 * mistake a SyncSpecError naming its field, what was expected and what was found.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as z from 'zod/mini'
import { parseWith } from '@atoll/core'
import { parseSynchronizerSpec, SyncSpecError, synchronizerSpec } from '../src/index.ts'

test('a spec gets its defaults, and is a sched SyncSpec', () => {
  assert.deepEqual(parseSynchronizerSpec({ algorithm: 'ssgd', period: 9 }), {
    algorithm: 'ssgd',
    period: 1,
    compression: { codec: 'none' },
  })
  assert.deepEqual(parseSynchronizerSpec({ algorithm: 'localsgd', period: 8 }), {
    algorithm: 'local-sgd',
    period: 8,
    compression: { codec: 'none' },
  })
  assert.deepEqual(parseSynchronizerSpec({ algorithm: 'diloco', period: 500, outer: { lr: 0.5 } }), {
    algorithm: 'diloco',
    period: 500,
    compression: { codec: 'none' },
    outer: { lr: 0.5, momentum: 0.9 },
    int8PseudoGradients: false,
  })
  const dream = { algorithm: 'dreamddp', period: 8, compression: { codec: 'int8' } }
  assert.deepEqual(parseSynchronizerSpec(dream), dream)
})

test('mistakes name the field, what was expected and what was found', () => {
  const cases: [unknown, string][] = [
    [
      { algorithm: 'gossip' },
      'sync.algorithm: expected one of "ssgd", "local-sgd", "localsgd", "dreamddp", "diloco", found "gossip"',
    ],
    [{ algorithm: 'dreamddp' }, 'sync.period: expected a period H ≥ 1 for dreamddp, found nothing'],
    [{ algorithm: 'dreamddp', period: 300 }, 'sync.period: expected at most 255 for dreamddp, found 300'],
    [{ algorithm: 'local-sgd', period: 2.5 }, 'sync.period: expected an integer in [1, 1000000], found 2.5'],
    [
      { algorithm: 'local-sgd', period: 4, outer: { lr: 1 } },
      "sync.outer: expected no outer (DiLoCo's) for local-sgd, found an object",
    ],
    [
      { algorithm: 'diloco', period: 4, int8PseudoGradients: true, compression: { codec: 'int8' } },
      'sync.compression: expected none beside int8PseudoGradients, found an object',
    ],
    [
      { algorithm: 'local-sgd', period: 4, compression: { codec: 'topk', ratio: 0.1 } },
      'sync.compression.codec: expected none or int8 for local-sgd, found "topk"',
    ],
    [
      { algorithm: 'ssgd', compression: { codec: 'topk', ratio: 2 } },
      'sync.compression.ratio: expected a finite number in (0, 1], found 2',
    ],
    [
      { algorithm: 'diloco', period: 4, outer: { momentum: 1 } },
      'sync.outer.momentum: expected a finite number in [0, 1), found 1',
    ],
    [
      { algorithm: 'ssgd', perod: 3 },
      'sync.perod: expected one of the fields algorithm, period, compression, outer, int8PseudoGradients, found an unknown field',
    ],
  ]
  for (const [input, message] of cases)
    assert.throws(() => parseSynchronizerSpec(input), { name: 'SyncSpecError', message })
})

test('the schema embeds in a job file as `sync:`', () => {
  const job = z.strictObject({ name: z.string(), sync: z.optional(synchronizerSpec) })
  const parsed = parseWith(job, { name: 'j', sync: { algorithm: 'localsgd', period: 4 } }, SyncSpecError)
  assert.equal(parsed.sync?.algorithm, 'local-sgd')
  assert.throws(() => parseWith(job, { name: 'j', sync: { algorithm: 'diloco' } }, SyncSpecError), {
    message: 'sync.period: expected a period H ≥ 1 for diloco, found nothing',
  })
})
