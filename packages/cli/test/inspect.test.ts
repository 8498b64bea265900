import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { exportOnnx, GraphBuilder, mlp, zeros } from '@atoll/core'
import { atoll, repoRoot, scratchDir } from '../../../tests/helpers/atoll.ts'

const fixture = (name: string) => join(repoRoot, 'packages/core/test/fixtures', name)
const dir = scratchDir('atoll-inspect-')

test('inspect a PyTorch export: ops, parameters, FLOPs per scope', () => {
  const r = atoll('inspect', fixture('mlp.ts17.onnx'))
  assert.equal(r.status, 0, r.stderr)
  // fc1 12→16, fc2 16→16, fc3 16→5: 208 + 272 + 85
  assert.match(r.stdout, /parameters: 565 in 6 tensors/)
  assert.match(r.stdout, /\n {2}Gemm +3\n/)
  // FLOPs of fc1: Gemm 2·6·12·16 + 6·16 for the bias = 2400, plus its ReLU (6·16)
  const json = JSON.parse(atoll('inspect', fixture('mlp.ts17.onnx'), '--json').stdout)
  const fc1 = json.scopes.find((s: { scope: string }) => s.scope === 'fc1')
  assert.equal(fc1.flops, 2400 + 96)
  assert.equal(json.unsupported.length, 0)
})

test('inspect binds symbolic dims and groups scopes by depth', () => {
  const file = join(dir, 'mlp.onnx')
  writeFileSync(file, exportOnnx(mlp({ sizes: [4, 8, 3], loss: false }).graph))
  const one = JSON.parse(atoll('inspect', file, '--json').stdout)
  const eight = JSON.parse(atoll('inspect', file, '--json', '--bind', 'batch=8').stdout)
  assert.deepEqual(one.bindings, { batch: 1 })
  assert.equal(eight.flops, 8 * one.flops)
  const bad = atoll('inspect', file, '--bind', 'batch=zero')
  assert.equal(bad.status, 2)
  assert.match(bad.stderr, /--bind/)
  const typo = atoll('inspect', file, '--bind', 'btach=8')
  assert.equal(typo.status, 2)
  assert.match(typo.stderr, /--bind names 'btach', not a symbolic input dimension of the model \(batch\)/)
  assert.equal(atoll('inspect', file, '--depth', '1.5').status, 2)
  const missing = atoll('inspect', join(dir, 'nothing.onnx'))
  assert.equal(missing.status, 2)
  assert.match(missing.stderr, /MODEL\.onnx: cannot read '.*nothing\.onnx'/)
})

test('inspect lists unsupported ops (exit 3) and rejects a file that is not ONNX (exit 1)', () => {
  const b = new GraphBuilder('odd')
  const x = b.input('x', 'float32', [2])
  const w = b.initializer('w', zeros('float32', [2]), true)
  b.output(b.node('FancyOp', [b.op('Add', [x, w])], {}, { domain: 'com.microsoft' })[0])
  const file = join(dir, 'odd.onnx')
  writeFileSync(file, exportOnnx(b.build({ knownOps: 'any' })))
  const r = atoll('inspect', file)
  assert.equal(r.status, 3)
  assert.match(r.stdout, /unsupported ops:\n {2}com\.microsoft\.FancyOp ×1 \(first: node 'FancyOp'\)/)
  assert.match(r.stdout, /FLOPs: not counted/)
  writeFileSync(join(dir, 'junk.onnx'), new Uint8Array([0xff, 0xff, 0xff]))
  const junk = atoll('inspect', join(dir, 'junk.onnx'))
  assert.equal(junk.status, 1)
  assert.match(junk.stderr, /OnnxDecodeError/)
})
