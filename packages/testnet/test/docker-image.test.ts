import assert from 'node:assert/strict'
import { afterEach, test } from 'node:test'
import { IMAGE_REPO, imageRepo } from '../src/index.ts'

const saved = process.env.ATOLL_TESTNET_IMAGE
afterEach(() => {
  if (saved === undefined) delete process.env.ATOLL_TESTNET_IMAGE
  else process.env.ATOLL_TESTNET_IMAGE = saved
})

test('the peer image repository is atoll-peer, or ATOLL_TESTNET_IMAGE when it is a repository name', () => {
  delete process.env.ATOLL_TESTNET_IMAGE
  assert.equal(imageRepo(), IMAGE_REPO)
  process.env.ATOLL_TESTNET_IMAGE = 'atoll-peer-test-k3x9'
  assert.equal(imageRepo(), 'atoll-peer-test-k3x9')
  for (const bad of ['--help', 'Atoll', 'a b', '']) {
    process.env.ATOLL_TESTNET_IMAGE = bad
    assert.throws(() => imageRepo(), {
      name: 'TestnetError',
      message: `ATOLL_TESTNET_IMAGE: expected a docker repository name (/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/), found ${JSON.stringify(bad)}`,
    })
  }
})
