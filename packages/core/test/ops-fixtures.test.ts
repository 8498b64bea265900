/**
 * Shape inference on real PyTorch exports (TorchScript and dynamo, opsets 13–18): every value's
 * inferred dtype and shape must equal what the reference interpreter actually produces.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { importOnnx } from '../src/onnx/index.ts'
import { inferShapes, opCosts } from '../src/ops/index.ts'
import { runReference } from '../src/reference/index.ts'
import { loadFixtures } from './fixtures.ts'

for (const f of loadFixtures()) {
  test(`${f.tag}: inferred types equal the executed ones; costs are computable`, () => {
    const g = importOnnx(f.onnx)
    const types = inferShapes(g)
    const names = g.nodes.flatMap((n) => n.outputs.filter((o) => o !== ''))
    const out = runReference(g, Object.fromEntries(f.batch), { fetch: names })
    for (const name of names) {
      const t = types.get(name)
      assert.deepEqual(
        { name, dtype: t?.dtype, shape: t?.shape },
        { name, dtype: out[name].dtype, shape: [...out[name].shape] },
      )
    }
    const { total } = opCosts(g)
    assert.ok(total.flops > 0 && total.paramBytes > 0 && total.outputBytes > 0)
  })
}
