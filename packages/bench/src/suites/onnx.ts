import { exportOnnx, gpt2, importOnnx } from '@atoll/core'
import { medianSeconds } from '../measure.ts'
import type { BenchOptions, BenchReport, BenchSuite } from '../suite.ts'

/**
 * ONNX export and import of a GPT-2 against a memory copy of the same model bytes, timed in the same
 * run. Export and import are what the runtime pays to turn a stage graph into an onnxruntime session
 * and a PyTorch file into a graph; both are dominated by the weights, so a copy is the floor.
 */
export const onnx: BenchSuite = {
  name: 'onnx',
  summary: 'ONNX export/import of GPT-2 (d384: 14M params) vs a memory copy of the same bytes',
  async run({ quick, log }: BenchOptions): Promise<BenchReport> {
    const config = quick ? 'tiny' : 'd384'
    const [runs, warmup] = quick ? [3, 1] : [7, 2]
    const { graph } = gpt2({ config, loss: false })
    const bytes = exportOnnx(graph)
    log(`onnx: gpt2-${config}, ${(bytes.length / 2 ** 20).toFixed(1)} MiB, median of ${runs} runs`)
    const target = new Uint8Array(bytes.length)
    const copy = medianSeconds(() => target.set(bytes), runs, warmup)
    const exportS = medianSeconds(() => exportOnnx(graph), runs, warmup)
    const importS = medianSeconds(() => importOnnx(bytes, { loss: false }), runs, warmup)
    return {
      suite: 'onnx',
      results: { export_vs_copy: exportS / copy, import_vs_copy: importS / copy },
      targets: { export_vs_copy: '<= 20', import_vs_copy: '<= 25' },
      details: {
        model: `gpt2-${config}`,
        bytes: bytes.length,
        copy_s: copy,
        export_s: exportS,
        import_s: importS,
      },
    }
  },
}
