/**
 * A zoo GPT's training graphs hold no op that onnxruntime's WebGPU provider (1.29) sends to the
 * CPU on the logits' or the tokens' path. The provider has no SoftmaxCrossEntropyLoss,
 * NegativeLogLikelihoodLoss, LogSoftmax or Sum kernel, and without graph capture no int64 Equal,
 * Where, Expand or Unsqueeze: each such node copied its inputs to the CPU and back every step — for
 * the loss that was the logits, [positions, vocab] floats. Measured on an H100 (GPT mini, batch
 * 4×128, ignore_index set): 13 nodes on the CPU before the loss was decomposed, 3 after (the
 * targets' Reshape and the two int64 → int32 Casts of the token ids, read from host inputs).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTrainingGraph } from '../src/autodiff/training.ts'
import type { Graph } from '../src/graph/types.ts'
import { inferTypes } from '../src/ops/infer.ts'
import { partitionGraph } from '../src/partition/partition.ts'
import { numel } from '../src/tensor.ts'
import { gpt2 } from '../src/zoo/gpt2.ts'

/** Op types with no kernel in onnxruntime 1.29's WebGPU provider that training graphs could hold. */
const WEBGPU_LACKS = ['SoftmaxCrossEntropyLoss', 'NegativeLogLikelihoodLoss', 'LogSoftmax', 'Sum']

/**
 * onnxruntime keeps initializers of at most this many elements on the CPU on purpose (shape
 * operands: kSmallInitializerThreshold in fallback_cpu_capability.cc), so an int64 one is no copy.
 */
const SMALL_CONSTANT = 100

/**
 * Where a node may read an int64 value that is not a small constant: a Cast (to int32, which the
 * WebGPU provider reads from int64), a Gather's indices, or a Reshape of a graph input (the
 * targets: it runs where they arrive, before the Cast uploads them).
 */
function int64ReadAllowed(graph: Graph, opType: string, input: number, value: string): boolean {
  if (opType === 'Cast' || (opType === 'Gather' && input === 1)) return true
  return opType === 'Reshape' && input === 0 && graph.inputs.some((i) => i.name === value)
}

/** The nodes that break either rule, as 'op (name) reads value', for the assertion message. */
function offenders(graph: Graph, bindings: Record<string, number>): string[] {
  const { types } = inferTypes(graph, { bindings })
  const found = graph.nodes
    .filter((n) => WEBGPU_LACKS.includes(n.opType))
    .map((n) => `${n.opType} (${n.name})`)
  for (const n of graph.nodes) {
    n.inputs.forEach((value, i) => {
      const t = types.get(value)
      if (t?.dtype !== 'int64' || value === '') return
      const constant = graph.initializers.get(value)
      if (constant !== undefined && numel(constant.shape) <= SMALL_CONSTANT) return
      if (!int64ReadAllowed(graph, n.opType, i, value))
        found.push(`${n.opType} (${n.name}) reads int64 '${value}'`)
    })
  }
  return found
}

for (const ignoreIndex of [undefined, -100]) {
  const what = ignoreIndex === undefined ? 'no ignore_index' : `ignore_index ${ignoreIndex}`
  const { graph } = gpt2({ config: 'mini', seq: 16, seed: 0, ignoreIndex })
  const bindings = { batch: 2 }

  test(`a zoo GPT's training graph (${what}) has no op the WebGPU provider runs on the CPU`, () => {
    assert.deepEqual(offenders(buildTrainingGraph(graph, 'loss', { bindings }).graph, bindings), [])
  })

  test(`a zoo GPT's pipeline stages (${what}) have no op the WebGPU provider runs on the CPU`, () => {
    const { stages } = partitionGraph(graph, {
      loss: 'loss',
      bindings,
      stages: [
        { scopes: ['wte', 'wpe', 'h.0', 'h.1'] },
        { scopes: ['h.2', 'h.3', 'ln_f', 'lm_head', 'loss'] },
      ],
    })
    for (const stage of stages) {
      assert.deepEqual(offenders(stage.forward, bindings), [], `stage ${stage.index} forward`)
      assert.deepEqual(offenders(stage.backward, bindings), [], `stage ${stage.index} backward`)
    }
  })
}
