/**
 * A federation whose clients reach the server over WebRTC, signalled through a circuit relay:
 * `atoll fl serve --relay` takes a reservation on a relay (`atoll peer --relay`, on 127.0.0.1
 * WebSockets) and prints the address through it; a browser tab (Debian's
 * headless Chromium) and an `atoll fl join` process both join at that address, each over a direct
 * WebRTC connection, and train one round of the MNIST CNN (its BatchNorm statistics federated with
 * it, the tab's computed by onnxruntime-web). No STUN server (nothing outside is reachable): every ICE
 * candidate is on loopback. Every process is stopped by its pid when the file is done.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { launchChromium, type PageState } from '../packages/web/src/index.ts'
import { atoll, scratchDir } from './helpers/atoll.ts'
import { AtollProcess } from './helpers/atoll-process.ts'
import { flMetrics, writeFlFile } from './helpers/fl.ts'

const PAGE_DONE_MS = 120_000
const ICE = ['--stun', 'none', '--ice-address', '127.0.0.1']

const dir = scratchDir('atoll-fl-relay-')
const flFile = join(dir, 'FL.yaml')
writeFlFile(flFile, {
  name: 'fmnist-relay',
  model: 'mnist-cnn',
  dataset: 'fashion-mnist',
  strategy: '{ name: fedavg }',
  rounds: 1,
  clients: '{ fraction: 1, min: 2 }',
  deadlineSeconds: 120,
  local: '{ epochs: 1, maxSteps: 12, batchSize: 32, lr: 0.1 }',
  eval: '{ samples: 200, batchSize: 200 }',
  checkpoint: '{ dir: ckpt }',
})

let browser: Awaited<ReturnType<typeof launchChromium>> | undefined
after(async () => {
  await browser?.close()
})

test('a browser tab and a Node client join through a relay and train a round of the CNN over WebRTC', async () => {
  const relay = new AtollProcess([
    ...['peer', '--relay', '--listen', '/ip4/127.0.0.1/tcp/0/ws', '--device', 'cpu'],
    ...['--data-dir', join(dir, 'relay')],
  ])
  const [, relayAddress] = await relay.waitFor(/^\s+(\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws\/p2p\/\w+)$/)
  const server = new AtollProcess([
    ...['fl', 'serve', flFile, '--port', '0', '--host', '127.0.0.1'],
    ...['--relay', relayAddress, ...ICE],
  ])
  const [, through] = await server.waitFor(/^serving federation \S+ at (\S+\/p2p-circuit\/webrtc\/p2p\/\w+)$/)
  assert.ok(through.startsWith(`${relayAddress}/p2p-circuit/webrtc/p2p/`), through)

  const node = new AtollProcess([
    ...['fl', 'join', through, '--partition', '1/2', '--samples', '300', '--probe-seconds', '0.1'],
    ...ICE,
  ])
  browser = await launchChromium()
  const page = await browser.newPage()
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  await page.goto(`about:blank`)
  // the page is served by a plain static server here: the tab knows the server only by ?server=
  const { serveWebClient, ensureWebClient } = await import('../packages/web/src/index.ts')
  const web = await serveWebClient({ dir: await ensureWebClient({ log: () => {} }) })
  try {
    await page.goto(`${web.url}?autostart=1&stun=none&server=${encodeURIComponent(through)}`)
    const finished = await page
      .waitForFunction(() => ['done', 'failed'].includes(window.atollWeb?.status), null, {
        timeout: PAGE_DONE_MS,
      })
      .then(() => true)
      .catch(() => false)
    const state = (await page.evaluate(() => window.atollWeb)) as PageState
    const context = `${JSON.stringify(state.federated)} ${state.error ?? ''} ${errors.join('; ')}\n${server.lines.join('\n')}`
    assert.ok(finished && state.status === 'done', `the page did not finish: ${context}`)
    assert.equal(state.federated?.transport, 'webrtc', context)
    assert.equal(state.federated?.server, through)
    assert.deepEqual(
      state.federated?.rounds.map((r) => [r.round, r.outcome]),
      [[0, 'accepted']],
    )
  } finally {
    await web.close()
  }
  await Promise.all([server.success(), node.success()])
  await node.waitFor(/^connected to the server over WebRTC$/, 1)
  const metrics = flMetrics(dir)
  assert.deepEqual(
    metrics.map((m) => [m.round, m.selected, m.accepted]),
    [[0, 2, 2]],
  )
  const start = Number((await server.waitFor(/^start: held-out accuracy ([\d.]+) %/, 1))[1]) / 100
  assert.ok(metrics[0].accuracy > start + 0.3, `accuracy ${start} → ${metrics[0].accuracy}`)
})

test('a bad relay, STUN list or relayed address is named before anything starts; an unreachable relay is an error', () => {
  const peer = '12D3KooWN5dNqskuGmyoxU7nrLF6Y2ZLqNjroQWPVpdkD3TNy4kz'
  const serve = (...flags: string[]) =>
    atoll('fl', 'serve', flFile, '--port', '0', '--host', '127.0.0.1', ...flags)
  const cases: [ReturnType<typeof atoll>, number, RegExp][] = [
    [
      serve('--relay', '/ip4/127.0.0.1/tcp/1/ws'),
      2,
      /--relay: expected a multiaddr ending in \/p2p\/<peer id>/,
    ],
    [
      serve('--relay', `/ip4/127.0.0.1/tcp/1/ws/p2p/${peer}/p2p-circuit/p2p/${peer}`),
      2,
      /--relay: expected the relay's own address, found one through a relay/,
    ],
    [
      serve('--stun', 'http://stun.example'),
      2,
      /--stun: 'http:\/\/stun.example' is not a stun:, turn: or turns: URL/,
    ],
    [
      atoll(
        'fl',
        'join',
        `/ip4/127.0.0.1/tcp/1/ws/p2p/${peer}/p2p-circuit/p2p/${peer}`,
        '--partition',
        '1/2',
      ),
      2,
      /goes through a relay without WebRTC/,
    ],
    // nothing listens on port 1: the relay cannot be reached
    [
      serve('--relay', `/ip4/127.0.0.1/tcp/1/ws/p2p/${peer}`),
      1,
      /RelayReservationError: cannot reach the relay/,
    ],
  ]
  for (const [r, status, message] of cases) {
    assert.equal(r.status, status, r.stderr)
    assert.match(r.stderr, message)
  }
})
