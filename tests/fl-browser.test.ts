/**
 * A federation with a browser in it: `atoll fl serve --web` and two `atoll fl join` processes on
 * 127.0.0.1, and the server's own page opened in Debian's headless Chromium (playwright-core). The
 * page finds the server from the status it serves, joins over WebSockets with libp2p in the tab, and
 * trains with onnxruntime-web on its bundled shard; the three clients complete two bcrs-opwa rounds
 * and the held-out accuracy rises. The page's screenshot after the second round is kept in
 * out/web/fl-browser.png. Every process is stopped by its pid when the file is done.
 */
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { launchChromium, type PageState } from '../packages/web/src/index.ts'
import { repoRoot, scratchDir } from './helpers/atoll.ts'
import { AtollProcess } from './helpers/atoll-process.ts'
import { flMetrics, writeFlFile } from './helpers/fl.ts'

/** A page that has not finished by then is stuck (two rounds take well under a minute here). */
const PAGE_DONE_MS = 120_000
const ARTEFACTS = join(repoRoot, 'out', 'web')

const dir = scratchDir('atoll-fl-web-')
const flFile = join(dir, 'FL.yaml')
writeFlFile(flFile, {
  name: 'fmnist-web',
  model: 'mlp',
  dataset: 'fashion-mnist',
  strategy: '{ name: bcrs-opwa, keepRatio: 0.3, minRatio: 0.05 }',
  rounds: 2,
  clients: '{ fraction: 1, min: 3 }',
  deadlineSeconds: 180,
  local: '{ epochs: 1, maxSteps: 12, batchSize: 32, lr: 0.1 }',
  eval: '{ samples: 500, batchSize: 250 }',
  checkpoint: '{ dir: ckpt }',
})

let browser: Awaited<ReturnType<typeof launchChromium>> | undefined
after(async () => {
  await browser?.close()
})

test('one browser tab and two Node clients complete two rounds; the accuracy rises', async () => {
  const server = new AtollProcess(['fl', 'serve', flFile, '--web', '--port', '0', '--host', '127.0.0.1'])
  const [, address] = await server.waitFor(
    /^serving federation \S+ at (\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/\w+)$/,
  )
  const [, url] = await server.waitFor(/^browser clients: open (http:\S+)$/)
  const clients = [1, 2].map(
    (k) =>
      new AtollProcess([
        ...['fl', 'join', address, '--partition', `${k}/2`, '--alpha', '1'],
        ...['--samples', '400', '--probe-seconds', '0.1'],
      ]),
  )
  browser = await launchChromium()
  const page = await browser.newPage()
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text())
  })
  await page.goto(`${url}?autostart=1&threads=2`)
  const finished = await page
    .waitForFunction(() => ['done', 'failed'].includes(window.atollWeb?.status), null, {
      timeout: PAGE_DONE_MS,
    })
    .then(() => true)
    .catch(() => false)
  if (!finished) {
    const seen = JSON.stringify(await page.evaluate(() => window.atollWeb.federated))
    assert.fail(`the page did not finish: ${seen}\n${errors.join('\n')}\n${server.lines.join('\n')}`)
  }
  // the page's last look at the server's status: both rounds scored
  await page
    .waitForFunction(() => (window.atollWeb.board?.accuracy.length ?? 0) >= 3, null, { timeout: 10_000 })
    .catch(() => {})
  const state = (await page.evaluate(() => window.atollWeb)) as PageState
  mkdirSync(ARTEFACTS, { recursive: true })
  writeFileSync(join(ARTEFACTS, 'fl-browser.png'), await page.screenshot({ fullPage: true }))
  assert.equal(
    state.status,
    'done',
    `the page failed: ${state.error} ${errors.join('; ')}\n${server.lines.join('\n')}`,
  )
  await Promise.all([server.success(), ...clients.map((c) => c.success())])

  const fed = state.federated
  assert.ok(fed !== undefined, 'the page joined the federation its server serves')
  assert.equal(fed.phase, 'done')
  assert.deepEqual(
    fed.rounds.map((r) => [r.round, r.outcome]),
    [
      [0, 'accepted'],
      [1, 'accepted'],
    ],
  )
  for (const r of fed.rounds) {
    assert.equal(r.losses.length, 12)
    assert.ok((r.uploadBytes ?? 0) > 0)
  }
  const metrics = flMetrics(dir)
  assert.deepEqual(
    metrics.map((m) => [m.round, m.selected, m.accepted]),
    [
      [0, 3, 3],
      [1, 3, 3],
    ],
  )
  // the tab is one of the three clients of each round, with the keep ratio the page was told
  for (const [i, r] of fed.rounds.entries())
    assert.equal(metrics[i].keepRatios[fed.peerId as string], r.keepRatio)
  const start = Number((await server.waitFor(/^start: held-out accuracy ([\d.]+) %/))[1]) / 100
  assert.ok(metrics[1].accuracy > start + 0.2, `accuracy ${start} → ${metrics.map((m) => m.accuracy)}`)
  // the server's panel: three clients, the browser among them, and the accuracy curve
  const board = state.board
  assert.ok(board !== undefined, "the page shows the server's status")
  assert.equal(board.clients.length, 3)
  assert.ok(board.clients.some((c) => c.client === fed.peerId))
  assert.ok(board.accuracy.length >= 2)
})
