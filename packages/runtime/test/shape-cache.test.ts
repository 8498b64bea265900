import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ShapeCache } from '../src/executor/bindings.ts'

const feeds = (n: number) => ({ x: { shape: [n, 4] }, y: { shape: [n] } })

test('one build per shape signature, shared by concurrent callers', async () => {
  let builds = 0
  const cache = new ShapeCache(async (f: ReturnType<typeof feeds>) => {
    builds++
    return f.x.shape[0]
  })
  const [a, b] = await Promise.all([cache.get(feeds(2)), cache.get(feeds(2))])
  assert.equal(a, 2)
  assert.equal(b, 2)
  assert.equal(await cache.get(feeds(3)), 3)
  assert.equal(builds, 2)
  assert.equal(cache.size, 2)
})

test('a failed build is forgotten, so the next call builds again', async () => {
  let calls = 0
  const cache = new ShapeCache(async () => {
    calls++
    if (calls === 1) throw new Error('first build fails')
    return 'ok'
  })
  await assert.rejects(cache.get(feeds(1)), /first build fails/)
  assert.equal(await cache.get(feeds(1)), 'ok')
  assert.equal(calls, 2)
})

test('clear releases every compiled entry and empties the cache', async () => {
  const released: number[] = []
  const cache = new ShapeCache(async (f: ReturnType<typeof feeds>) => f.x.shape[0])
  await cache.get(feeds(1))
  await cache.get(feeds(5))
  await cache.clear(async (n) => {
    released.push(n)
  })
  assert.deepEqual(released.sort(), [1, 5])
  assert.equal(cache.size, 0)
})
