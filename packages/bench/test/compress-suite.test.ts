import assert from 'node:assert/strict'
import { test } from 'node:test'
import { suites } from '../src/index.ts'

test('the compress suite runs in quick mode and reports every figure against its baseline', async () => {
  const suite = suites.find((s) => s.name === 'compress')
  assert.ok(suite, 'compress is registered')
  const report = await suite.run({ quick: true, log: () => {} })
  assert.equal(report.suite, 'compress')
  const timed = ['topk_exact_1pct', 'topk_sampled_1pct', 'int8_encode', 'fp16_encode', 'wire_dense_roundtrip']
  for (const name of timed) {
    assert.ok(report.results[`${name}_vs_memcpy`] > 0, `${name}_vs_memcpy`)
    assert.ok(report.targets?.[`${name}_vs_memcpy`]?.startsWith('<='), `target of ${name}`)
  }
  assert.ok(report.results.memcpy_s > 0)
  const ratios = Object.entries(report.results).filter(([name]) => name.endsWith('_bytes_ratio'))
  assert.ok(ratios.length >= 5)
  for (const [name, value] of ratios) assert.ok(value > 0 && value < 1, `${name} = ${value}`)
  // fp16 halves the bytes; 1 % top-k with fp32 values and varint indices is well under 2 %.
  assert.ok(Math.abs(report.results.fp16_bytes_ratio - 0.5) < 0.01)
  assert.ok(report.results.topk_exact_1pct_bytes_ratio < 0.02)
  assert.ok(Object.values(report.results).every(Number.isFinite))
})
