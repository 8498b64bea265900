import { readFileSync } from 'node:fs'
import {
  buildBackward,
  buildTrainingGraph,
  decomposeTrainingOps,
  exportOnnx,
  type Graph,
  gpt2,
  importOnnx,
  inferShapes,
  int64,
  resnet,
  type Tensor,
  tensor,
} from '@atoll/core'
import { type Backend, nodeBackends } from '@atoll/runtime'
import { median, medianSeconds } from '../measure.ts'
import type { BenchOptions, BenchReport, BenchSuite } from '../suite.ts'

/**
 * What autodiff's graphs cost on onnxruntime, against the forward measured in the same run: one
 * training step (loss + every gradient, one session) over one forward, for a ResNet (with the
 * default ConvTranspose-form input gradients, and the Conv form beside them) and a GPT; and the time
 * to build GPT-2 124M's backward graph against shape inference of the same graph (the compile cost
 * per shape signature). The Conv form has no target: ConvTranspose became the default when the Conv
 * form's gradients came out wrong on onnxruntime's WebGPU provider, and this shows what it costs. Beside
 * them, a Llama and a Mixtral-style mixture of experts as PyTorch exported them (fixtures/, made by
 * make_bench_models.py: d 128, context 64, batch 4), imported with a cross-entropy loss.
 */
export const autodiff: BenchSuite = {
  name: 'autodiff',
  summary:
    'training graph vs forward on onnxruntime (ResNet, GPT), ConvTranspose vs Conv form, buildBackward vs inferShapes',
  async run({ quick, log }: BenchOptions): Promise<BenchReport> {
    const backend = await nodeBackends().resolve(process.env.ATOLL_BENCH_DEVICE ?? 'cpu')
    const [runs, warmup] = quick ? [3, 1] : [7, 2]
    const batch = quick ? 2 : 8
    const image = quick ? 32 : 64
    const net = resnet({ depth: 18, width: quick ? 1 / 16 : 1 / 4, classes: 10, imageSize: image, batch })
    const netFeeds = {
      x: randomImages(batch, image),
      targets: int64(
        [batch],
        Array.from({ length: batch }, (_, i) => i % 10),
      ),
    }
    const forwardNet = decomposeTrainingOps(net.graph)
    log(
      `autodiff: resnet18 ×${quick ? '1/16' : '1/4'}, ${image}², batch ${batch}, ${backend.name}, median of ${runs}`,
    )
    const [netForward, netConv, netTransposed] = await timeGraphs(
      backend,
      [
        forwardNet,
        buildTrainingGraph(net.graph, 'loss', { convTranspose: false }).graph,
        buildTrainingGraph(net.graph, 'loss', { convTranspose: true }).graph,
      ],
      netFeeds,
      runs,
      warmup,
    )
    const seq = quick ? 16 : 64
    const lm = gpt2({ config: quick ? 'tiny' : 'd384', seq, batch: 4 })
    const tokens = () =>
      int64(
        [4, seq],
        Array.from({ length: 4 * seq }, (_, i) => (i * 7) % 256),
      )
    const lmFeeds = { input_ids: tokens(), targets: tokens() }
    const [lmForward, lmTraining] = await timeGraphs(
      backend,
      [lm.graph, buildTrainingGraph(lm.graph, 'loss').graph],
      lmFeeds,
      runs,
      warmup,
    )
    const exported: Record<string, number> = {}
    for (const name of ['llama', 'moe']) {
      const graph = importOnnx(readFileSync(new URL(`../../fixtures/bench_${name}.onnx`, import.meta.url)))
      const ids = () =>
        int64(
          [4, 64],
          Array.from({ length: 4 * 64 }, (_, i) => (i * 13) % 256),
        )
      const [forward, training] = await timeGraphs(
        backend,
        [decomposeTrainingOps(graph), buildTrainingGraph(graph, 'loss').graph],
        { input_ids: ids(), targets: ids() },
        runs,
        warmup,
      )
      exported[`${name}_forward_s`] = forward
      exported[`${name}_training_s`] = training
    }
    const big = gpt2({ config: quick ? 'd384' : '124M', seq: 128, batch: 1, shapesOnly: true })
    const weights = big.graph.inputs.map((v) => v.name).filter((n) => !big.inputs.includes(n))
    const inferS = medianSeconds(() => inferShapes(big.graph), runs, warmup)
    const backwardS = medianSeconds(
      () => buildBackward(big.graph, 'loss', { parameters: weights }),
      runs,
      warmup,
    )
    return {
      suite: 'autodiff',
      results: {
        resnet_training_vs_forward: netTransposed / netForward,
        resnet_training_conv_form_vs_forward: netConv / netForward,
        resnet_convtranspose_vs_conv: netTransposed / netConv,
        gpt_training_vs_forward: lmTraining / lmForward,
        llama_training_vs_forward: exported.llama_training_s / exported.llama_forward_s,
        moe_training_vs_forward: exported.moe_training_s / exported.moe_forward_s,
        build_backward_vs_infer_shapes: backwardS / inferS,
      },
      targets: {
        resnet_training_vs_forward: '<= 4',
        gpt_training_vs_forward: '<= 4',
      },
      details: {
        backend: backend.name,
        resnet_forward_s: netForward,
        resnet_training_conv_s: netConv,
        resnet_training_convtranspose_s: netTransposed,
        gpt: quick ? 'tiny' : 'd384',
        gpt_forward_s: lmForward,
        gpt_training_s: lmTraining,
        ...exported,
        backward_model: quick ? 'gpt2-d384' : 'gpt2-124M',
        infer_shapes_s: inferS,
        build_backward_s: backwardS,
      },
    }
  },
}

/**
 * Median run time of each graph's session. The sessions run in interleaved rounds (one run of
 * each per round) so that a load change on a shared machine hits all of them alike, not one.
 */
async function timeGraphs(
  backend: Backend,
  graphs: Graph[],
  feeds: Record<string, Tensor>,
  runs: number,
  warmup: number,
): Promise<number[]> {
  const sessions = await Promise.all(
    graphs.map((graph) => backend.createSession({ onnx: exportOnnx(graph), graph })),
  )
  try {
    const times: number[][] = graphs.map(() => [])
    for (let round = 0; round < warmup + runs; round++) {
      for (const [i, session] of sessions.entries()) {
        const t0 = performance.now()
        await session.run(feeds)
        if (round >= warmup) times[i].push((performance.now() - t0) / 1000)
      }
    }
    return times.map(median)
  } finally {
    for (const session of sessions) await session.release()
  }
}

function randomImages(batch: number, size: number): Tensor {
  const data = new Float32Array(batch * 3 * size * size)
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 12.9898) * 0.5 + 0.5
  return tensor('float32', [batch, 3, size, size], data)
}
