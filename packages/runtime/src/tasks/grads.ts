import { type Graph, type Tensor, tensor } from '@atoll/core'
import type { Backend } from '../backend/backend.ts'
import { MonolithicTrainer } from '../executor/monolithic.ts'
import { parametersOf } from '../executor/trainer.ts'

export interface GradientsResult {
  loss: number
  /** `loss` (float32 [1]) and `grad.<parameter>` for every trainable parameter, ready for safetensors */
  tensors: Map<string, Tensor>
}

/** One forward+backward of `graph` on `batch`: the loss and every trainable parameter's gradient. */
export async function computeGradients(
  graph: Graph,
  batch: Readonly<Record<string, Tensor>>,
  backend: Backend,
  loss = 'loss',
): Promise<GradientsResult> {
  const params = parametersOf(graph)
  const trainer = new MonolithicTrainer({
    backend,
    graph,
    params: new Map(params.map((p) => [p.name, p])),
    loss,
  })
  try {
    const value = await trainer.run(batch)
    const tensors = new Map<string, Tensor>([['loss', tensor('float32', [1], Float32Array.of(value))]])
    for (const p of params) tensors.set(`grad.${p.name}`, tensor('float32', p.shape, p.grad))
    return { loss: value, tensors }
  } finally {
    await trainer.release()
  }
}
