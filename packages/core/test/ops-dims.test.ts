import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { bindDims, dimArith, dimProduct, symbolDim } from '../src/ops/dims.ts'

describe('symbolic dims', () => {
  it('keeps sums and products canonical, so equal sizes compare equal', () => {
    assert.equal(dimArith('-', dimArith('+', 1, 'seq'), 1), 'seq')
    assert.equal(dimArith('+', 'seq', 1), 'seq+1')
    assert.equal(dimArith('+', 1, 'seq'), 'seq+1')
    assert.equal(dimProduct(['seq', 'batch']), 'batch*seq')
    assert.equal(dimProduct([8, 'N']), '8*N')
    assert.equal(dimProduct([0, 'N']), 0)
    assert.equal(dimArith('*', dimArith('+', 'seq', 1), 2), '2*seq+2')
    assert.equal(dimArith('-', 'a', 'a'), 0)
    assert.equal(dimArith('/', '8*N', 4), '2*N')
    assert.equal(dimArith('/', 'N', 2), '(N/2)')
    assert.equal(dimArith('*', dimArith('/', 'N', 2), 2), '2*(N/2)')
    assert.equal(dimArith('*', 'n-1', 'n+1'), 'n*n-1')
  })
  it('binds symbols and evaluates expressions whose symbols are all bound', () => {
    assert.deepEqual(bindDims(['batch', 'batch*seq', 'seq+1', '2*seq-1', 'other', 3], { batch: 2, seq: 5 }), [
      2,
      10,
      6,
      9,
      'other',
      3,
    ])
    assert.deepEqual(bindDims(['(N/2)'], { N: 4 }), ['(N/2)'])
    assert.deepEqual(bindDims(['[seq-len]+1'], { 'seq-len': 4 }), [5])
  })
  it('brackets model symbols that contain operator characters', () => {
    assert.equal(symbolDim('batch'), 'batch')
    assert.equal(symbolDim('seq-len'), '[seq-len]')
    assert.equal(dimArith('+', symbolDim('seq-len'), 1), '[seq-len]+1')
    assert.equal(dimArith('-', dimArith('+', symbolDim('a*b'), 2), 2), '[a*b]')
  })
})
