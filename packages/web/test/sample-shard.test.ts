/** The sample shard round-trips through its file, and a corrupt or inconsistent file is refused. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { tensor, writeSafetensors } from '@atoll/core'
import { decodeSampleShard, encodeSampleShard, SampleShardError } from '../src/index.ts'

const set = {
  name: 'fashion-mnist',
  pixels: Uint8Array.from({ length: 3 * 2 * 2 }, (_, i) => i * 20),
  labels: Uint8Array.from([0, 9, 4]),
  count: 3,
  height: 2,
  width: 2,
  classes: 10,
}

test('a shard decodes to the images it was made from', () => {
  assert.deepEqual(decodeSampleShard(encodeSampleShard(set)), set)
})

test('a corrupt or inconsistent shard is refused with the reason', () => {
  const file = (tensors: Parameters<typeof writeSafetensors>[0], classes = '10') =>
    writeSafetensors(tensors, { dataset: 'fashion-mnist', classes })
  const pixels = tensor('uint8', [3, 2, 2], set.pixels)
  const labels = tensor('uint8', [3], set.labels)
  const cases: [Uint8Array, RegExp][] = [
    [Uint8Array.from([1, 2, 3]), /not a safetensors file/],
    [file({ pixels }), /no 'labels'/],
    [file({ pixels: tensor('float32', [3, 2, 2], new Float32Array(12)), labels }), /'pixels' is float32/],
    [file({ pixels, labels: tensor('uint8', [2], Uint8Array.from([0, 1])) }), /3 images but 2 labels/],
    [file({ pixels, labels }, 'ten'), /'classes' is 'ten'/],
    [file({ pixels, labels }, '5'), /label 1 is 9, not below the 5 classes/],
  ]
  for (const [bytes, message] of cases)
    assert.throws(
      () => decodeSampleShard(bytes),
      (err: Error) => err instanceof SampleShardError && message.test(err.message),
    )
})
