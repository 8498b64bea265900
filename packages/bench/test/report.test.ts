import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatReport, median, meetsTarget } from '../src/index.ts'

test('meetsTarget reads <= and >= bounds', () => {
  assert.equal(meetsTarget(3, '<= 3'), true)
  assert.equal(meetsTarget(3.01, '<= 3'), false)
  assert.equal(meetsTarget(0.9, '>= 0.9'), true)
  assert.equal(meetsTarget(0.89, '>=0.9'), false)
})

test('median of odd and even counts', () => {
  assert.equal(median([3, 1, 2]), 2)
  assert.equal(median([4, 1, 2, 3]), 2.5)
})

test('formatReport marks missed targets', () => {
  const text = formatReport({ suite: 's', results: { a: 2, b: 20 }, targets: { a: '<= 10', b: '<= 10' } })
  assert.match(text, /^a +2\.000 +<= 10 +ok$/m)
  assert.match(text, /^b +20\.00 +<= 10 +MISSED$/m)
})
