import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { EmulatedLink, LinkTable, MAX_STRIPES, stripeCount, stripeRange, TokenBucket } from '../src/index.ts'
import { encodePreamble, newTransferId, parsePreamble } from '../src/stripe.ts'

test('stripe ranges tile the payload exactly, for any size and part count', () => {
  for (const bytes of [0, 1, 7, 1000, (1 << 20) + 3]) {
    for (const parts of [1, 2, 3, 4, 7]) {
      let next = 0
      for (let p = 0; p < parts; p++) {
        const [start, end] = stripeRange(bytes, parts, p)
        assert.equal(start, next)
        assert.ok(end >= start)
        next = end
      }
      assert.equal(next, bytes)
    }
  }
  assert.equal(stripeCount(1024), 1)
  assert.equal(stripeCount(256 << 20), 4)
  assert.equal(stripeCount(256 << 20, 2), 2)
})

test('a stripe preamble round-trips and bad ones are MalformedFrameError', () => {
  const id = newTransferId()
  const pre = parsePreamble(encodePreamble(id, 4, 3))
  assert.equal(pre.parts, 4)
  assert.equal(pre.part, 3)
  assert.equal(pre.transferId.length, 24)
  const bad = (at: number, value: number) => {
    const b = encodePreamble(id, 4, 1)
    b[at] = value
    assert.throws(() => parsePreamble(b), { name: 'MalformedFrameError' })
  }
  assert.throws(() => parsePreamble(encodePreamble(id, 4, 1).subarray(1)), { name: 'MalformedFrameError' })
  bad(0, 2) // version
  bad(1, 0) // no parts
  bad(1, MAX_STRIPES + 1)
  bad(2, 4) // part index past the count
  bad(3, 1) // reserved byte
})

test('links refuse nonsense rates and delays with LinkConfigError', () => {
  assert.throws(() => new TokenBucket(0), { name: 'LinkConfigError' })
  assert.throws(() => new TokenBucket(Number.NaN), { name: 'LinkConfigError' })
  assert.throws(() => new EmulatedLink({ rateBytesPerSecond: 1e6, delayMs: -1 }), { name: 'LinkConfigError' })
  for (const burstBytes of [0, -1, Number.POSITIVE_INFINITY])
    assert.throws(() => new EmulatedLink({ rateBytesPerSecond: 1e6, burstBytes }), {
      name: 'LinkConfigError',
    })
  const table = new LinkTable()
  assert.throws(() => table.setDefault({ rateBytesPerSecond: -5 }), { name: 'LinkConfigError' })
})

test('a link table gives each peer its own bucket under a default shape, explicit entries win', () => {
  const table = new LinkTable()
  assert.equal(table.get('a'), undefined)
  table.setDefault({ rateBytesPerSecond: 1e6 })
  const a = table.get('a')
  assert.ok(a !== undefined)
  assert.equal(table.get('a'), a)
  assert.notEqual(table.get('b'), a)
  table.set('c', { rateBytesPerSecond: 5e6, delayMs: 10 })
  table.setDefault(null)
  assert.equal(table.get('a'), undefined)
  assert.deepEqual(table.get('c')?.shape, { rateBytesPerSecond: 5e6, delayMs: 10 })
})

test('an emulated link delivers every slice in order, and a cancelled transmit stops', async () => {
  const link = new EmulatedLink({ rateBytesPerSecond: 50e6, delayMs: 5 })
  const got: number[] = []
  const bytes = Uint8Array.from({ length: 300_000 }, (_, i) => i % 251)
  const { delivered } = await link.transmit(bytes, (slice) => got.push(...slice))
  await delivered
  assert.deepEqual(Uint8Array.from(got), bytes)
  const slow = new EmulatedLink({ rateBytesPerSecond: 1000 })
  const ctl = new AbortController()
  const pending = slow.transmit(new Uint8Array(200_000), () => {}, ctl.signal)
  ctl.abort()
  await assert.rejects(pending, { name: 'TransferCancelledError' })
})

test('the browser entry never reaches node:* or the Node-only modules', () => {
  const src = fileURLToPath(new URL('../src/', import.meta.url))
  const seen = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    const text = readFileSync(join(src, file), 'utf8')
    for (const [, spec] of text.matchAll(/^(?:import|export)[^'"]*from '([^']+)'/gm)) {
      assert.ok(!spec.startsWith('node:'), `${file} imports ${spec}`)
      assert.ok(!['@libp2p/tcp', '@libp2p/mdns'].includes(spec), `${file} imports ${spec}`)
      if (spec.startsWith('./')) visit(spec.slice(2))
    }
  }
  visit('index.browser.ts')
  assert.ok(
    seen.has('tensor.ts') && seen.has('browser.ts') && !seen.has('identity.ts') && !seen.has('node.ts'),
  )
})
