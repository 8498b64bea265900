/**
 * The zoo's models (builder graphs with a symbolic batch) through shape inference and the reference
 * interpreter: the batch stays symbolic unbound, and bound it predicts every executed value.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { inferShapes } from '../src/ops/index.ts'
import { runReference } from '../src/reference/index.ts'
import { int64, type Tensor, tensor } from '../src/tensor.ts'
import { gpt2, mlp, resnet } from '../src/zoo/index.ts'

const models = {
  gpt2: () => gpt2({ config: 'tiny', seq: 8 }),
  resnet18: () => resnet({ depth: 18, width: 1 / 16, imageSize: 32, classes: 10 }),
  mlp: () => mlp(),
}

describe('zoo models through inferShapes and runReference', () => {
  for (const [name, build] of Object.entries(models)) {
    it(name, () => {
      const { graph, logits, inputs } = build()
      assert.equal(inferShapes(graph).get(logits)?.shape?.[0], 'batch')
      const batch = 2
      const types = inferShapes(graph, { batch })
      const feeds: Record<string, Tensor> = {}
      for (const input of graph.inputs.filter((v) => inputs.includes(v.name))) {
        const shape = types.get(input.name)?.shape as number[]
        const n = shape.reduce((a, b) => a * b, 1)
        feeds[input.name] =
          input.dtype === 'int64'
            ? int64(
                shape,
                Array.from({ length: n }, (_, i) => (i * 7) % 5),
              )
            : tensor(
                'float32',
                shape,
                Float32Array.from({ length: n }, (_, i) => Math.sin(i)),
              )
      }
      const names = graph.nodes.flatMap((n) => n.outputs.filter((o) => o !== ''))
      const out = runReference(graph, feeds, { fetch: names })
      for (const v of names) assert.deepEqual(types.get(v)?.shape, [...out[v].shape], v)
      const loss = out.loss?.data[0] as number
      assert.ok(Number.isFinite(loss), `${name} loss ${loss}`)
    })
  }
})
