/**
 * `atoll grads`, `fit` and `eval` end to end, as processes, on the PyTorch-exported fixtures that
 * core commits (their `.ref.safetensors` hold PyTorch's float64 loss and gradients).
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { readSafetensors, type Tensor } from '../packages/core/src/index.ts'
import { atoll, repoRoot, scratchDir } from './helpers/atoll.ts'

const fixtures = join(repoRoot, 'packages/core/test/fixtures')
const work = scratchDir('atoll-cli-')
const tensors = (path: string) => readSafetensors(new Uint8Array(readFileSync(path))).tensors

for (const variant of ['gpt.dynamo18', 'cnn.ts17']) {
  test(`atoll grads on ${variant} reproduces PyTorch's loss and gradients`, () => {
    const kind = variant.split('.')[0]
    const out = join(work, `${variant}.grads.safetensors`)
    const r = atoll(
      'grads',
      join(fixtures, `${variant}.onnx`),
      '--batch',
      join(fixtures, `${kind}.batch.safetensors`),
      '--loss',
      'cross-entropy',
      '--out',
      out,
    )
    assert.equal(r.status, 0, r.stderr)
    const ours = tensors(out)
    const refFile = readSafetensors(
      new Uint8Array(readFileSync(join(fixtures, `${variant}.ref.safetensors`))),
    )
    const ref = refFile.tensors
    assert.deepEqual(ours.get('loss')?.shape, [1])
    assert.ok(Math.abs((ours.get('loss')!.data as Float32Array)[0] - Number(refFile.metadata.loss)) < 1e-5)
    // a PyTorch parameter the exporter stored twice: its gradient is the sum over the copies
    const tied = JSON.parse(refFile.metadata.tied ?? '[]') as string[][]
    const groupOf = new Map(tied.flatMap((g) => g.map((n) => [n, g] as const)))
    const grad = (name: string): Float32Array => {
      const group = groupOf.get(name) ?? [name]
      const sum = new Float32Array(ours.get(`grad.${name}`)!.data.length)
      for (const n of group) {
        const g = ours.get(`grad.${n}`) as Tensor
        const data = g.data as Float32Array
        // copies may be stored transposed ([in, out] for MatMul); compare in the named copy's layout
        if (n === name) for (let i = 0; i < sum.length; i++) sum[i] += data[i]
        else addTransposed(sum, data, g.shape)
      }
      return sum
    }
    const names = [...ours.keys()].filter((k) => k.startsWith('grad.')).map((k) => k.slice(5))
    assert.equal(names.length, [...ref.keys()].filter((k) => !k.startsWith('__')).length)
    // float32 against float64: tolerance relative to the largest gradient (biases before a
    // BatchNorm have a true gradient of 0 and a float32 one of ~1e-7)
    const scale = Math.max(...names.flatMap((n) => Array.from(ref.get(n)!.data as Float64Array, Math.abs)))
    for (const name of names) {
      const want = ref.get(name)!.data as Float64Array
      const got = grad(name)
      for (let i = 0; i < want.length; i++)
        assert.ok(Math.abs(got[i] - want[i]) < 1e-4 * scale, `${name}[${i}]: ${got[i]} vs ${want[i]}`)
    }
  })
}

function addTransposed(into: Float32Array, data: Float32Array, shape: readonly number[]): void {
  const [rows, cols] = shape
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) into[c * rows + r] += data[r * cols + c]
}

test('atoll fit logs one loss per step, resumes from a checkpoint, and atoll eval reads the saved weights', () => {
  const model = join(fixtures, 'gpt.ts17.onnx')
  const batch = join(fixtures, 'gpt.batch.safetensors')
  const common = [
    '--batch',
    batch,
    '--loss',
    'cross-entropy',
    '--optimizer',
    'sgd',
    '--lr',
    '0.5',
    '--momentum',
    '0.9',
    '--nesterov',
  ]
  const log = join(work, 'fit.jsonl')
  const straight = atoll('fit', model, ...common, '--steps', '6', '--log', join(work, 'straight.jsonl'))
  assert.equal(straight.status, 0, straight.stderr)
  const ckpt = join(work, 'ckpt')
  const first = atoll(
    'fit',
    model,
    ...common,
    '--steps',
    '3',
    '--log',
    log,
    '--checkpoint',
    ckpt,
    '--checkpoint-every',
    '3',
  )
  assert.equal(first.status, 0, first.stderr)
  const second = atoll(
    'fit',
    model,
    ...common,
    '--steps',
    '6',
    '--log',
    log,
    '--checkpoint',
    ckpt,
    '--save',
    join(work, 'w.safetensors'),
  )
  assert.equal(second.status, 0, second.stderr)
  assert.match(second.stderr, /resuming at step 3/)
  const lines = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  assert.deepEqual(
    lines.map((l) => l.step),
    [0, 1, 2, 3, 4, 5],
  )
  assert.deepEqual(readFileSync(log, 'utf8'), readFileSync(join(work, 'straight.jsonl'), 'utf8'))
  assert.ok(lines[5].loss < lines[0].loss - 0.5, `loss should fall: ${lines.map((l) => l.loss)}`)
  const ev = atoll('eval', model, '--weights', join(work, 'w.safetensors'), '--batch', batch)
  assert.equal(ev.status, 0, ev.stderr)
  const result = JSON.parse(ev.stdout)
  assert.ok(result.loss < lines[0].loss && result.accuracy > 0 && result.positions === 16)
})

test('atoll fit in 3 stages logs the same losses under every activation policy, and with 3 steps per run', () => {
  const fit = join(repoRoot, 'packages/runtime/test/fixtures')
  const model = join(fit, 'gpt_fit.onnx') // batch 4, a symbolic batch dim: micro-batches of 2
  const run = (name: string, ...extra: string[]) => {
    const log = join(work, `${name}.jsonl`)
    const r = atoll(
      'fit',
      model,
      '--batch',
      join(fit, 'gpt_fit.batch.safetensors'),
      '--optimizer',
      'adamw',
      '--lr',
      '0.01',
      '--steps',
      '3',
      '--log',
      log,
      ...extra,
    )
    assert.equal(r.status, 0, r.stderr)
    return readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).loss as number)
  }
  const whole = run('whole')
  // the three steps in one session run (forward, backward and AdamW in an ONNX Loop)
  for (const [i, l] of run('loop', '--steps-per-run', '3').entries())
    assert.ok(
      Math.abs(l - whole[i]) <= 1e-4 * Math.abs(whole[i]),
      `--steps-per-run step ${i}: ${l} vs ${whole[i]}`,
    )
  for (const policy of ['selective', 'stash', 'recompute']) {
    const staged = run(policy, '--stages', '3', '--micro-batches', '2', '--activations', policy)
    staged.forEach((l, i) => {
      assert.ok(
        Math.abs(l - whole[i]) <= 1e-5 * Math.abs(whole[i]),
        `${policy} step ${i}: ${l} vs ${whole[i]}`,
      )
    })
  }
})

test('bad flags are usage errors (exit 2) that name the problem', () => {
  const model = join(fixtures, 'gpt.ts17.onnx')
  const r = atoll(
    'fit',
    model,
    '--batch',
    'x',
    '--optimizer',
    'adamw',
    '--lr',
    '1',
    '--momentum',
    '0.9',
    '--steps',
    '1',
  )
  assert.equal(r.status, 2)
  assert.match(r.stderr, /UsageError: --momentum is not an option of --optimizer adamw/)
  const a = atoll(
    'fit',
    model,
    '--batch',
    'x',
    '--optimizer',
    'sgd',
    '--lr',
    '1',
    '--steps',
    '1',
    '--activations',
    'all',
  )
  assert.equal(a.status, 2)
  assert.match(a.stderr, /--activations: expected one of "selective", "stash", "recompute", found "all"/)
  const g = atoll(
    'grads',
    model,
    '--batch',
    join(fixtures, 'mlp.batch.safetensors'),
    '--out',
    join(work, 'x'),
  )
  assert.equal(g.status, 1)
  assert.match(g.stderr, /TaskInputError: .*'input_ids' is missing/)
  assert.equal(
    atoll('fit', '--model', 'gpt2:huge', '--data', 'mnist', '--optimizer', 'sgd', '--lr', '1', '--steps', '1')
      .status,
    1,
  )
})
