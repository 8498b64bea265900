/** The page's address is untrusted input: defaults, bounds, unknown and repeated parameters. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { PAGE_DEFAULTS, PageOptionsError, pageOptions } from '../src/index.ts'

test('an empty address gives the defaults; given values are parsed', () => {
  assert.deepEqual(pageOptions(''), { ...PAGE_DEFAULTS, autostart: false })
  assert.deepEqual(
    pageOptions('?autostart=1&model=mnist-cnn&steps=7&batch=16&lr=0.2&seed=9&backend=wasm&threads=2'),
    {
      autostart: true,
      model: 'mnist-cnn',
      steps: 7,
      batch: 16,
      lr: 0.2,
      seed: 9,
      backend: 'wasm',
      threads: 2,
    },
  )
})

/** A peer id as `atoll fl serve` prints them. */
const PEER = '12D3KooWN5dNqskuGmyoxU7nrLF6Y2ZLqNjroQWPVpdkD3TNy4kz'

test('a server to join is a WebSockets multiaddr with the peer id, or WebRTC through a relay', () => {
  const server = `/ip4/127.0.0.1/tcp/4011/ws/p2p/${PEER}`
  assert.equal(pageOptions(`?server=${encodeURIComponent(server)}`).server, server)
  const relayed = `/ip4/127.0.0.1/tcp/4002/ws/p2p/${PEER}/p2p-circuit/webrtc/p2p/${PEER}`
  assert.equal(pageOptions(`?server=${encodeURIComponent(relayed)}`).server, relayed)
  assert.equal(pageOptions('').server, undefined)
})

test('stun is none or a list of STUN/TURN URLs', () => {
  assert.deepEqual(pageOptions('stun=none').iceServers, [])
  assert.deepEqual(pageOptions('stun=stun:a.example:3478,turns:b.example:5349').iceServers, [
    'stun:a.example:3478',
    'turns:b.example:5349',
  ])
  assert.equal(pageOptions('').iceServers, undefined)
})

test('a bad parameter is named with what was expected and what was found', () => {
  const cases: [string, RegExp][] = [
    ['steps=0', /steps: expected an integer ≥ 1, found "0"|steps: .*found 0/],
    ['steps=', /steps: /],
    ['lr=-1', /lr: /],
    ['batch=2.5', /batch: /],
    ['model=resnet', /model: expected one of/],
    ['autostart=yes', /autostart: /],
    ['step=5', /address: step: expected one of the fields autostart, model, steps.*found an unknown field/],
    ['steps=3&steps=4', /gives 'steps' twice/],
    ['server=nonsense', /server 'nonsense' is not a multiaddr/],
    [`server=${encodeURIComponent('/ip4/127.0.0.1/tcp/4010/p2p/' + PEER)}`, /not a WebSockets address/],
    ['server=/ip4/127.0.0.1/tcp/4011/ws', /must end in \/p2p\//],
    [
      `server=${encodeURIComponent(`/ip4/127.0.0.1/tcp/4002/ws/p2p/${PEER}/p2p-circuit/p2p/${PEER}`)}`,
      /through a relay without WebRTC/,
    ],
    ['stun=http://x.example', /stun: 'http:\/\/x.example' is not a stun:, turn: or turns: URL/],
  ]
  for (const [query, message] of cases) {
    assert.throws(
      () => pageOptions(query),
      (err: Error) => err instanceof PageOptionsError && message.test(err.message),
      query,
    )
  }
})
