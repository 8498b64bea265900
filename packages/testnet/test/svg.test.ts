import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatRate, loadTopology, parseTopology, topologySvg } from '../src/index.ts'

test('the picture has every site, peer and link, with rates and latencies', () => {
  const svg = topologySvg(loadTopology('geo3'))
  assert.match(svg, /^<svg [^>]*viewBox="0 0 \d+(\.\d+)? \d+(\.\d+)?"/)
  assert.equal(svg.match(/<circle /g)?.length, 6)
  assert.equal(svg.match(/<line /g)?.length, 3)
  for (const name of ['us', 'eu', 'asia', 'us1', 'us2', 'eu1', 'eu2', 'asia1', 'asia2']) {
    assert.match(svg, new RegExp(`>${name}</text>`))
  }
  assert.match(svg, />100 Mbit\/s · 40 ms</)
  assert.match(svg, />20 Mbit\/s · 90 ms</)
  assert.equal(svg.match(/1 Gbit\/s inside/g)?.length, 3)
  // every box lies inside the canvas
  const [, w, h] = /viewBox="0 0 ([\d.]+) ([\d.]+)"/.exec(svg)!.map(Number)
  for (const m of svg.matchAll(/<rect x="([-\d.]+)" y="([-\d.]+)" width="([\d.]+)" height="([\d.]+)"/g)) {
    const [x, y, bw, bh] = m.slice(1).map(Number)
    assert.ok(x >= 0 && y >= 0 && x + bw <= w && y + bh <= h, `rect ${m[0]} inside ${w}×${h}`)
  }
})

test('access rates are drawn under their peers, and names are escaped', () => {
  const svg = topologySvg(loadTopology('home'))
  assert.match(svg, />8 Mbit\/s</)
  assert.match(svg, />100 Mbit\/s</)
  const odd = topologySvg(parseTopology({ sites: [{ name: 'x', rate_mbit: 5, peers: ['x1'] }] }, 'a&b<c>'))
  assert.match(odd, />a&amp;b&lt;c&gt;</)
  assert.equal(formatRate(1000), '1 Gbit/s')
  assert.equal(formatRate(2.5), '2.5 Mbit/s')
})
