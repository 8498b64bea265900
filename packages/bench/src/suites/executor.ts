import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { basename } from 'node:path'
import { constants, PerformanceObserver } from 'node:perf_hooks'
import {
  BYTES_PER_ELEMENT,
  type GPT2Config,
  type Graph,
  gpt2,
  int64,
  numel,
  parseJson,
  parseWith,
  partitionGraph,
  type Tensor,
  type ValueInfo,
} from '@atoll/core'
import {
  type ActivationPolicy,
  adamw,
  buildStageGraphs,
  MonolithicTrainer,
  nodeBackends,
  onnxModel,
  parametersOf,
  pipelineModel,
  StepLoopTrainer,
  stageGraphsOf,
  zeroGrads,
} from '@atoll/runtime'
import * as z from 'zod/mini'
import { BenchInputError } from '../errors.ts'
import { median } from '../measure.ts'
import type { BenchOptions, BenchReport, BenchSuite } from '../suite.ts'

/** The GPT the targets are stated for: 6 layers, d = 384, context 128 (a byte-level vocabulary). */
const FULL: GPT2Config = { vocab: 256, ctx: 128, d: 384, layers: 6, heads: 6 }
const QUICK: GPT2Config = { vocab: 256, ctx: 32, d: 64, layers: 4, heads: 4 }

/**
 * One GPT training step (forward + backward, gradients landing in the Parameters) three ways in
 * one run: the whole training graph as one onnxruntime session (the baseline), the stage executor
 * with 1 stage, and with 4 stages chained in this process; plus an AdamW step against the
 * forward+backward time, and the bytes a micro-batch keeps for backward with selective stashing
 * against keeping every value backward reads. The backend is `cpu` unless ATOLL_BENCH_DEVICE names another (`webgpu`);
 * ATOLL_BENCH_MODEL names an ONNX file to run instead of the zoo GPT (PyTorch's export of the same
 * model, for a comparison on the identical graph), and ATOLL_BENCH_PYTORCH the PyTorch timings of
 * that model measured in the same run (`make_fit_fixture.py --timing`): the step's speed against
 * PyTorch's on CUDA is then a result.
 */
export const executor: BenchSuite = {
  name: 'executor',
  summary: 'GPT training step: stage executor (1 and 4 stages) vs one monolithic session; AdamW vs fwd+bwd',
  async run({ quick, log }: BenchOptions): Promise<BenchReport> {
    const config = quick ? QUICK : FULL
    const batchSize = quick ? 2 : Number(process.env.ATOLL_BENCH_BATCH ?? 8)
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new BenchInputError(
        `ATOLL_BENCH_BATCH is ${process.env.ATOLL_BENCH_BATCH}; expected a whole number ≥ 1`,
      )
    const [runs, warmup] = quick ? [3, 1] : [7, 2]
    const backend = await nodeBackends().resolve(process.env.ATOLL_BENCH_DEVICE ?? 'cpu')
    const file = process.env.ATOLL_BENCH_MODEL
    const { graph, ctx, vocab, label } = file ? fileModel(file) : zooGpt(config)
    const tokens = batchSize * ctx
    const ids = (k: number) =>
      int64(
        [batchSize, ctx],
        Array.from({ length: tokens }, (_, i) => (i * 31 + k) % vocab),
      )
    const batchAt = (k: number): Record<string, Tensor> => ({
      [graph.inputs[0].name]: ids(k),
      targets: ids(k + 7),
    })
    const batch = batchAt(0)
    log(`executor: ${label}, context ${ctx}, batch ${batchSize}, ${backend.name}`)

    const monoParams = parametersOf(graph)
    const mono = new MonolithicTrainer({
      backend,
      graph,
      params: new Map(monoParams.map((p) => [p.name, p])),
    })
    // AdamW on every core, as ORT's forward and backward use every core (PyTorch's foreach AdamW does too)
    const threads = availableParallelism()
    // parameters in shared memory, as a job's: the AdamW threads update them in place, and a CPU
    // session adds its gradients into them on its own thread (runAdding)
    const one = pipelineModel(graph, { backend, sharedParameters: true })
    // the same step with the gradients coming back to this thread as fresh buffers (made on first use)
    let returned: ReturnType<typeof pipelineModel> | undefined
    // the zoo GPT splits by layer scopes; a file's graph into 4 contiguous stages of even cost
    const stages = file
      ? 4
      : stageGraphsOf(
          partitionGraph(graph, {
            loss: 'loss',
            bindings: { batch: batchSize },
            stages: fourStages(config.layers),
          }),
        )
    const four = pipelineModel(graph, { backend, stages, bindings: { batch: batchSize } })
    const opt = adamw(one.params, { threads })
    // ATOLL_BENCH_PRECISION=fp16 adds the 1-stage step with float16 matrix products (loss scale 1: timing only)
    const half =
      process.env.ATOLL_BENCH_PRECISION === 'fp16'
        ? pipelineModel(graph, { backend, precision: 'fp16' })
        : undefined
    // ATOLL_BENCH_LOOP_STEPS AdamW steps per session run (StepLoopTrainer), timed per step
    const loopSteps = quick ? 2 : Number(process.env.ATOLL_BENCH_LOOP_STEPS ?? 8)
    if (!Number.isInteger(loopSteps) || loopSteps < 1)
      throw new BenchInputError(
        `ATOLL_BENCH_LOOP_STEPS is ${process.env.ATOLL_BENCH_LOOP_STEPS}; expected a whole number ≥ 1`,
      )
    const loopParams = parametersOf(graph)
    const loop = new StepLoopTrainer({ backend, graph, params: new Map(loopParams.map((p) => [p.name, p])) })
    const loopBatches = Array.from({ length: loopSteps }, (_, k) => batchAt(k))
    const loopLrs = loopBatches.map(() => 1e-4)
    const variants = {
      monolithic: async () => {
        zeroGrads(monoParams)
        await mono.run(batch)
      },
      dag_1stage: async () => {
        zeroGrads(one.params)
        await one.pipeline.step(batch)
      },
      dag_1stage_returned: async () => {
        returned ??= pipelineModel(graph, { backend })
        zeroGrads(returned.params)
        await returned.pipeline.step(batch)
      },
      dag_4stage: async () => {
        zeroGrads(four.params)
        await four.pipeline.step(batch)
      },
      adamw_step: async () => opt.step(1e-4),
      step_loop: async () => {
        await loop.run(loopBatches, loopLrs)
      },
      ...(half && {
        dag_1stage_fp16: async () => {
          zeroGrads(half.params)
          await half.pipeline.step(batch)
        },
      }),
    }
    // rounds interleave the variants, so a change in machine load hits all of them alike; a model too
    // big for every variant's sessions at once (GPT-2 small on one GPU) runs the ones named
    const chosen = chosenVariants(variants, process.env.ATOLL_BENCH_VARIANTS)
    const times = await interleaved(chosen, runs, warmup)
    const majorGcs = {
      adding: await majorGcsPerRun(chosen.dag_1stage, runs),
      returned: await majorGcsPerRun(chosen.dag_1stage_returned, runs),
    }
    const stepLoop = ratio(times.step_loop, loopSteps)
    const pytorch = process.env.ATOLL_BENCH_PYTORCH
    const versus =
      pytorch === undefined || (times.dag_1stage === undefined && stepLoop === undefined)
        ? undefined
        : pytorchRatios(pytorch, backend.name, batchSize, times.dag_1stage, stepLoop)
    opt.close()
    await Promise.all([
      mono.release(),
      loop.release(),
      one.pipeline.release(),
      returned?.pipeline.release(),
      four.pipeline.release(),
      half?.pipeline.release(),
    ])
    const { monolithic, dag_1stage: dag1, dag_4stage: dag4, adamw_step: optimizer } = times
    const dag1Fp16 = times.dag_1stage_fp16
    const parameters = one.params.reduce((a, p) => a + p.value.length, 0)
    const stageGraphs = four.pipeline.stages.map((s) => s.graph)
    const kept = {
      selective: stashBytes(stageGraphs, batchSize, 'selective'),
      stash: stashBytes(stageGraphs, batchSize, 'stash'),
    }
    return {
      suite: 'executor',
      results: measured({
        dag_1stage_vs_monolithic: ratio(dag1, monolithic),
        dag_4stage_vs_monolithic: ratio(dag4, monolithic),
        optimizer_vs_fwdbwd: ratio(optimizer, dag1),
        step_loop_speedup_vs_dag_1stage_and_adamw: ratio(sum(dag1, optimizer), stepLoop),
        tokens_per_s_monolithic: ratio(tokens, monolithic),
        tokens_per_s_dag_1stage: ratio(tokens, dag1),
        tokens_per_s_dag_4stage: ratio(tokens, dag4),
        tokens_per_s_step_loop: ratio(tokens, stepLoop),
        stash_bytes_selective_vs_all: kept.selective / kept.stash,
        fp16_step_vs_fp32_step: ratio(dag1, dag1Fp16),
        dag_1stage_adding_vs_returned: ratio(dag1, times.dag_1stage_returned),
        major_gcs_per_step_dag_1stage: majorGcs.adding,
        major_gcs_per_step_dag_1stage_returned: majorGcs.returned,
        ...versus?.results,
      }),
      targets: {
        ...versus?.targets,
        dag_1stage_vs_monolithic: '<= 1.10',
        dag_4stage_vs_monolithic: '<= 1.25',
        optimizer_vs_fwdbwd: '<= 0.10',
        stash_bytes_selective_vs_all: '<= 0.50',
      },
      details: {
        backend: backend.name,
        optimizerThreads: threads,
        loopSteps,
        model: label,
        config: file ? { ctx, vocab } : config,
        batchSize,
        parameters,
        seconds: {
          monolithic,
          dag_1stage: dag1,
          dag_1stage_returned: times.dag_1stage_returned,
          dag_4stage: dag4,
          adamw_step: optimizer,
          step_loop_per_step: stepLoop,
          dag_1stage_fp16: dag1Fp16,
        },
        stashBytesPerMicroBatch: kept,
        ...(versus ? { pytorch: versus.details } : {}),
      },
    }
  },
}

/** The variants ATOLL_BENCH_VARIANTS names (a comma list; default all). */
function chosenVariants<K extends string>(
  variants: Partial<Record<K, () => Promise<void>>>,
  list: string | undefined,
): Partial<Record<K, () => Promise<void>>> {
  if (list === undefined || list === '') return variants
  const names = list.split(',').map((n) => n.trim())
  const unknown = names.filter((n) => !(n in variants))
  if (unknown.length > 0)
    throw new BenchInputError(
      `ATOLL_BENCH_VARIANTS names ${unknown.join(', ')}; the variants are ${Object.keys(variants).join(', ')}`,
    )
  return Object.fromEntries(names.map((n) => [n, variants[n as K]])) as Partial<
    Record<K, () => Promise<void>>
  >
}

const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? undefined : a / b
const sum = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? undefined : a + b

/** The figures of the variants that ran. */
function measured(figures: Record<string, number | undefined>): Record<string, number> {
  return Object.fromEntries(Object.entries(figures).filter((e): e is [string, number] => e[1] !== undefined))
}

const timingRun = z.object({
  fwdbwd_s: z.number().check(z.positive()),
  adamw_s: z.optional(z.number().check(z.positive())),
})
const pytorchTiming = z.object({
  config: z.object({ batch: z.int() }),
  gpu: z.optional(z.string()),
  cuda_tf32: z.optional(timingRun),
  cuda_fp32: z.optional(timingRun),
})
/** The step's minimum speed against PyTorch eager on CUDA (same graph, same batch), by backend (issue 15). */
const VERSUS_PYTORCH: Record<string, string> = { cuda: '>= 0.5', webgpu: '>= 0.2' }

/**
 * Atoll's step against PyTorch's forward+backward on CUDA from `make_fit_fixture.py --timing`'s JSON:
 * against TF32 MatMuls (what onnxruntime's CUDA provider runs for fp32 by default) and strict fp32.
 * The step loop's time per step includes its AdamW update: it is set against PyTorch's forward,
 * backward and AdamW step (torch.optim.AdamW's default foreach kernels).
 */
function pytorchRatios(
  file: string,
  backend: string,
  batch: number,
  atollSeconds: number | undefined,
  loopSeconds: number | undefined,
) {
  const raw = parseJson(readFileSync(file, 'utf8'), file, BenchInputError)
  const timing = parseWith(pytorchTiming, raw, BenchInputError, { root: file })
  if (timing.config.batch !== batch)
    throw new BenchInputError(`${file} timed batch ${timing.config.batch}; this bench runs batch ${batch}`)
  if (timing.cuda_tf32 === undefined || timing.cuda_fp32 === undefined)
    throw new BenchInputError(
      `${file} has no CUDA timings: run make_fit_fixture.py --timing where PyTorch sees a GPU`,
    )
  const name = `${backend}_step_vs_pytorch_cuda`
  return {
    results: {
      ...(atollSeconds === undefined
        ? {}
        : {
            [name]: timing.cuda_tf32.fwdbwd_s / atollSeconds,
            [`${name}_strict_fp32`]: timing.cuda_fp32.fwdbwd_s / atollSeconds,
          }),
      ...(loopSeconds === undefined || timing.cuda_tf32.adamw_s === undefined
        ? {}
        : {
            [`${backend}_step_loop_vs_pytorch_cuda_with_adamw`]:
              (timing.cuda_tf32.fwdbwd_s + timing.cuda_tf32.adamw_s) / loopSeconds,
          }),
    },
    targets: VERSUS_PYTORCH[backend] && atollSeconds !== undefined ? { [name]: VERSUS_PYTORCH[backend] } : {},
    details: {
      gpu: timing.gpu,
      seconds: {
        tf32: timing.cuda_tf32.fwdbwd_s,
        fp32: timing.cuda_fp32.fwdbwd_s,
        tf32_adamw: timing.cuda_tf32.adamw_s,
      },
    },
  }
}

/**
 * Bytes one micro-batch keeps from forward to backward on the stages that stash (all but the loss
 * stage, which runs both directions in one session), under an activation policy.
 */
function stashBytes(graphs: readonly Graph[], batch: number, policy: ActivationPolicy): number {
  let bytes = 0
  graphs.slice(0, -1).forEach((graph, k) => {
    const floats = (vs: readonly ValueInfo[]) => vs.filter((v) => v.dtype === 'float32').map((v) => v.name)
    const g = buildStageGraphs(graph, {
      differentiate: floats(graph.outputs),
      gradInputs: k === 0 ? [] : floats(graph.inputs),
      bindings: { batch },
      policy,
    })
    for (const o of g.forward.outputs)
      if (g.stashed.includes(o.name)) bytes += numel(o.shape as number[]) * BYTES_PER_ELEMENT[o.dtype]
  })
  return bytes
}

function zooGpt(config: GPT2Config) {
  const { graph } = gpt2({ config, seed: 0 })
  return { graph, ctx: config.ctx, vocab: config.vocab, label: `GPT ${config.layers}×${config.d}` }
}

/** A token model from an ONNX file (e.g. PyTorch's export of the same GPT): [batch, ctx] ids in, [batch, ctx, vocab] out. */
function fileModel(file: string) {
  const { graph, label } = onnxModel(new Uint8Array(readFileSync(file)), { label: basename(file) })
  const ctx = graph.inputs[0].shape?.[1]
  const vocab = graph.outputs.find((o) => o.name !== 'loss')?.shape?.at(-1)
  if (typeof ctx !== 'number' || typeof vocab !== 'number')
    throw new Error(
      `${file}: expected token ids [batch, ctx] in and logits [batch, ctx, vocab] out, with static ctx and vocab`,
    )
  return { graph, ctx, vocab, label }
}

/** Four stages by scope: embeddings with the first blocks, the middle blocks, the last blocks with the head. */
function fourStages(layers: number) {
  const blocks = Array.from({ length: layers }, (_, i) => `h.${i}`)
  const per = Math.ceil(layers / 4)
  const groups = [0, 1, 2, 3].map((s) => blocks.slice(s * per, (s + 1) * per))
  return groups.map((g, s) => ({
    scopes: [...(s === 0 ? ['wte', 'wpe'] : []), ...g, ...(s === 3 ? ['ln_f', 'lm_head'] : [])],
  }))
}

/** Median seconds of each variant over `runs` rounds that run every variant once, after `warmup` rounds. */
async function interleaved<K extends string>(
  variants: Partial<Record<K, () => Promise<void>>>,
  runs: number,
  warmup: number,
): Promise<Partial<Record<K, number>>> {
  const names = Object.keys(variants) as K[]
  const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>
  for (let r = 0; r < warmup + runs; r++) {
    for (const name of names) {
      const t0 = process.hrtime.bigint()
      await variants[name]?.()
      if (r >= warmup) samples[name].push(Number(process.hrtime.bigint() - t0) / 1e9)
    }
  }
  return Object.fromEntries(names.map((n) => [n, median(samples[n])])) as Partial<Record<K, number>>
}

/**
 * Major garbage collections of this thread per run of `step`, over `runs` runs after one: counted
 * one variant at a time (interleaved, a collection that one variant's fresh buffers start would
 * often land in the next).
 */
async function majorGcsPerRun(step: (() => Promise<void>) | undefined, runs: number) {
  if (step === undefined) return undefined
  await step()
  let count = 0
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[])
      if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) count++
  })
  observer.observe({ entryTypes: ['gc'] })
  for (let r = 0; r < runs; r++) await step()
  await new Promise((resolve) => setImmediate(resolve)) // the observer's last entries
  observer.disconnect()
  return count / runs
}
