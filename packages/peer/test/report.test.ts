/**
 * A job's report page (report.ts) from a summary made here: every part is drawn (loss curve with
 * held-out points, clusters with their peers and stages, the fence edge with its codec and keep
 * ratio, bytes per link, predicted vs measured step time), nothing is fetched or run, and every string
 * from the network is escaped, in text and in attributes. The event log's lines are JSON.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { escapeHtml, reportHtml, type TrainSummary, trainEventLine, writeReport } from '../src/index.ts'

const EVIL = `<script>alert("x")</script>&'`
const ids = ['id-a1', 'id-a2', 'id-b1', 'id-b2']
const names = [EVIL, 'a2', 'b1', 'b2']

function summary(steps = 6): TrainSummary {
  const losses = Array.from({ length: steps }, (_, k) => 5.5 - 0.4 * k)
  const edge = (from: number, fence: boolean) => ({
    from,
    to: from + 1,
    bytes: 32_768,
    crossesFence: fence,
    bandwidthBps: fence ? 2.5e6 : 1.25e8,
    rttSeconds: fence ? 0.02 : 0.0002,
    codec: fence ? ('topk-fp16' as const) : ('dense' as const),
    keepRatio: fence ? 0.125 : 1,
    seconds: 0.01,
  })
  const edges = [edge(0, false), edge(1, true), edge(2, false)]
  return {
    job: 'demo<job>',
    start: 0,
    steps,
    loss_first: losses[0] ?? Number.NaN,
    loss_last: losses.at(-1) ?? Number.NaN,
    losses,
    eval: steps > 0 ? [{ step: steps, loss: 4.2 }] : [],
    peers: ids.map((id, k) => ({ id, name: names[k], device: 'cpu', flops: 4.6e10 })),
    links: [{ a: 'id-a1', b: 'id-b1', bandwidth_bps: 2.4e6, rtt_seconds: 0.021 }],
    plan: {
      algorithm: 'op-fence',
      clusters: [
        { peers: ['id-a1', 'id-a2'], inner_bandwidth_bps: 1.2e8 },
        { peers: ['id-b1', 'id-b2'], inner_bandwidth_bps: 1.1e8 },
      ],
      stages: ids.map((id, k) => ({ peer: id, name: names[k], layers: [`h.${k}`], cluster: k < 2 ? 0 : 1 })),
      boundaries: edges.map(({ from, to, codec, keepRatio }) => ({ from, to, codec, keepRatio })),
      edges,
      predicted_step_seconds: 0.2,
    },
    measured_step_seconds: 0.25,
    step_seconds: losses.map(() => 0.25),
    link_bytes: steps > 0 ? { [`${EVIL}→a2`]: 4_000_000, 'a2→b1': 900_000, 'b1→a2': 800_000 } : {},
    replans: [],
    membership: [],
  }
}

test('escapeHtml replaces the five characters HTML gives meaning to', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;')
  assert.equal(escapeHtml('a1 → b2'), 'a1 → b2')
})

test('the report draws every part, from the summary alone', () => {
  const html = reportHtml(summary(), {
    sites: [
      { name: 'a', peers: [EVIL, 'a2'] },
      { name: 'b', peers: ['b1', 'b2'] },
    ],
  })
  assert.match(html, /^<!doctype html>/)
  // the loss curve: a line through the training losses, a dot per held-out point
  assert.match(html, /<polyline points="[^"]+" class="line train"/)
  assert.equal(html.match(/class="dot eval"/g)?.length, 1)
  // the clusters named after their sites, four peers, a stage on each, the fence edge with its codec
  assert.match(html, /class="cluster c0"/)
  assert.match(html, />site a</)
  assert.match(html, />site b</)
  assert.equal(html.match(/class="peer"/g)?.length, 4)
  for (const k of [0, 1, 2, 3]) assert.match(html, new RegExp(`>stage ${k}<`))
  assert.equal(html.match(/class="edge fence"/g)?.length, 1)
  // neighbours in the row are joined by straight arrows: the fence edge a2 → b1 crosses the gap
  assert.equal(html.match(/<path d="M[\d.]+,[\d.]+ L[\d.]+,[\d.]+" class="edge/g)?.length, 3)
  assert.match(html, /fence 1→2: top-k fp16, keep 12\.5 %/)
  assert.match(html, /20 Mbit\/s · 32\.8 kB\/micro-batch/)
  assert.match(html, /links inside 960 Mbit\/s/)
  // bytes per link, the ones across the fence in the fence colour; step times against the plan
  assert.equal(html.match(/class="bar fence"/g)?.length, 2)
  assert.match(html, /4\.00 MB, 667 kB\/step/)
  assert.match(html, /class="line measured"/)
  assert.match(html, /class="line predicted dashed"/)
  assert.match(html, /0\.250 s measured, 0\.200 s predicted \(20 % off\)/)
})

test('nothing from the network reaches the page unescaped, and nothing is fetched or run', () => {
  const html = reportHtml(summary(), { title: `job "${EVIL}"`, notes: [EVIL] })
  assert.doesNotMatch(html, /<script/i)
  assert.doesNotMatch(html, /alert\("x"\)/)
  assert.match(html, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;&amp;&#39;/)
  assert.doesNotMatch(html, /demo<job>/)
  assert.doesNotMatch(html, /\b(src|href)=|url\((?!#)|@import|https?:/i)
})

test('a job that took no step still gets a page', () => {
  const html = reportHtml(summary(0))
  assert.match(html, /loss per step: nothing measured/)
  assert.match(html, /nothing crossed a link/)
  assert.doesNotMatch(html, /NaN/)
})

const dir = mkdtempSync(join(tmpdir(), 'atoll-report-'))
after(() => rmSync(dir, { recursive: true, force: true }))

test('writeReport writes OUT/report.html and says where', async () => {
  const path = await writeReport(dir, summary())
  assert.equal(path, join(dir, 'report.html'))
  assert.equal(readFileSync(path, 'utf8'), reportHtml(summary()))
})

test('the event log has one JSON line per event, with its time', () => {
  const at = new Date('2026-01-02T03:04:05Z')
  const line = trainEventLine({ kind: 'eval', step: 10, loss: 3.5 }, at)
  assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'))
  assert.deepEqual(JSON.parse(line), { time: '2026-01-02T03:04:05.000Z', kind: 'eval', step: 10, loss: 3.5 })
})
