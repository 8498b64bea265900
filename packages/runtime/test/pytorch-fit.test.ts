/**
 * `fit` against PyTorch: fixtures/make_fit_fixture.py trained a small GPT of its own for 10 steps
 * on one batch with torch.optim.SGD and torch.optim.AdamW (float32) and exported it to ONNX; the
 * same ONNX file and batch through Atoll's autodiff and optimizers must give the same losses: the
 * issue asks for 1e-3 relative; they agree to ~1e-7 (float32 rounding), so 1e-5 is held here.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fit, nodeBackends, onnxModel, type OptimizerSpec, readBatch } from '../src/index.ts'

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)))
const reference = JSON.parse(new TextDecoder().decode(fixture('gpt_fit.losses.json'))) as {
  runs: Record<string, Curve>
}
const cpu = await nodeBackends().resolve('cpu')

interface Curve {
  optimizer: OptimizerSpec & { lr: number }
  losses: number[]
}

/** Each step's loss of `fit` on an ONNX file and its batch, with the curve's optimizer and step count. */
async function fitLosses(
  onnx: Uint8Array,
  batchFile: Uint8Array,
  curve: Curve,
  layout: { stages?: number; microBatches?: number } = {},
): Promise<number[]> {
  const model = onnxModel(onnx)
  const batch = readBatch(batchFile, model.graph)
  const { lr, ...optimizer } = curve.optimizer
  const losses: number[] = []
  await fit({
    model,
    backend: cpu,
    batch: () => batch,
    optimizer: optimizer as OptimizerSpec,
    schedule: { kind: 'constant', lr },
    steps: curve.losses.length,
    ...layout,
    onStep: (r) => void losses.push(r.loss),
  })
  return losses
}

function assertCurve(losses: number[], curve: Curve, tolerance: number): void {
  for (const [i, want] of curve.losses.entries()) {
    const rel = Math.abs(losses[i] - want) / Math.abs(want)
    assert.ok(rel < tolerance, `step ${i}: ${losses[i]} vs PyTorch ${want} (relative ${rel})`)
  }
}

// the same run as 1 stage, and as 3 contiguous stages over 2 micro-batches each step
const layouts = [
  { stages: 1, microBatches: 1 },
  { stages: 3, microBatches: 2 },
]
for (const [name, run] of Object.entries(reference.runs)) {
  const layout = layouts[name === 'adamw' ? 1 : 0]
  test(`${name} (${layout.stages} stage(s), ${layout.microBatches} micro-batch(es)): 10 steps of fit reproduce PyTorch's per-step losses within 1e-5 relative`, async () => {
    const losses = await fitLosses(fixture('gpt_fit.onnx'), fixture('gpt_fit.batch.safetensors'), run, layout)
    assertCurve(losses, run, 1e-5)
    assert.ok(losses[losses.length - 1] < losses[0] - 0.5, 'the run must actually train')
  })
}

/**
 * The model families of issue 16 (core's fixtures/families, made by make_families.py): the Llama and
 * the mixture of experts, exported by PyTorch, follow PyTorch's 10-step AdamW curve (float32 on both
 * sides; the curve, not the bits: 1e-3 relative).
 */
const families = new URL('../../core/test/fixtures/families/', import.meta.url)
for (const kind of ['llama', 'moe']) {
  test(`${kind}: 10 AdamW steps of fit follow PyTorch's losses within 1e-3 relative`, async () => {
    const file = (name: string) => new Uint8Array(readFileSync(new URL(name, families)))
    const curve = JSON.parse(new TextDecoder().decode(file(`${kind}.fit.json`))) as Curve
    const losses = await fitLosses(file(`${kind}.ts17.onnx`), file(`${kind}.batch.safetensors`), curve)
    assertCurve(losses, curve, 1e-3)
  })
}
