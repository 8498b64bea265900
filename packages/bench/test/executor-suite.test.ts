import assert from 'node:assert/strict'
import { test } from 'node:test'
import { suites } from '../src/index.ts'

test('the executor suite runs in quick mode and reports every figure with its target', async () => {
  const suite = suites.find((s) => s.name === 'executor')
  assert.ok(suite, 'executor is registered')
  const report = await suite.run({ quick: true, log: () => {} })
  for (const name of ['dag_1stage_vs_monolithic', 'dag_4stage_vs_monolithic', 'optimizer_vs_fwdbwd']) {
    assert.ok(report.results[name] > 0, name)
    assert.ok(report.targets?.[name]?.startsWith('<='), `target of ${name}`)
  }
  for (const name of ['monolithic', 'dag_1stage', 'dag_4stage'])
    assert.ok(report.results[`tokens_per_s_${name}`] > 0, `tokens/s of ${name}`)
  // bytes, not time: selective stashing keeps a fraction of what stashing every read value keeps
  const kept = report.results.stash_bytes_selective_vs_all
  assert.ok(kept > 0 && kept <= 0.5, `selective keeps ${kept} of the bytes`)
})
