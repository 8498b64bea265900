import {
  decodeMessage,
  decodeTensor,
  type Encoded,
  encodeTensor,
  fp16,
  int8,
  joinParts,
  raw,
  topk,
  topkSampled,
} from '@atoll/compress'
import { median, medianSeconds } from '../measure.ts'
import type { BenchOptions, BenchReport, BenchSuite } from '../suite.ts'

/** 16M float32 elements (64 MiB), the size the targets are stated for; --quick uses 256K. */
const FULL_ELEMENTS = 1 << 24
const QUICK_ELEMENTS = 1 << 18
const KEEP = 0.01
const route = { job: 'bench', step: 0, mb: 0, edge: 'x' }

/**
 * Codecs and the wire format against `Float32Array.prototype.set` of the same tensor, timed in the
 * same run: every time figure is a multiple of memcpy_s. The machine may be shared, so timings
 * are paired: each round times the baseline right before each operation, and a figure is the
 * median of its per-round ratios (slow swings in load then hit both sides of a ratio alike).
 */
export const compress: BenchSuite = {
  name: 'compress',
  summary: 'tensor codecs and the wire format vs a memory copy of the same 64 MiB tensor',
  async run({ quick, log }: BenchOptions): Promise<BenchReport> {
    const n = quick ? QUICK_ELEMENTS : FULL_ELEMENTS
    const [rounds, runs] = quick ? [2, 1] : [5, 3]
    log(`compress: ${n} float32 elements, ${rounds} rounds of medians of ${runs} runs`)
    const x = gradientLike(n)
    const copy = new Float32Array(n)
    const memcpy = () => copy.set(x)
    const k = Math.round(n * KEEP)
    // Like the baseline, which copies into an existing array, dense outputs go to buffers reused
    // across calls (as a training loop reuses them every step); on a VM a fresh 64 MiB buffer
    // costs several memcpy in page faults alone, reported in details as *_fresh.
    const out = new Uint8Array(4 * n + 4096)
    const headlineOps: Record<string, () => void> = {
      topk_exact_1pct: () => topk.encode(x, { k }),
      topk_sampled_1pct: () => topkSampled.encode(x, { k }),
      int8_encode: () => int8.encode(x, { out }),
      fp16_encode: () => fp16.encode(x, { out }),
      // What a receiver does with a dense message: the frames joined into its receive buffer
      // (the one copy), the header validated, the payload viewed as a Float32Array.
      wire_dense_roundtrip: () => {
        const bytes = joinParts(encodeTensor(route, [n], raw.encode(x)), out)
        const { header, payload } = decodeMessage(bytes)
        decodeTensor(header, payload)
      },
    }
    const timed = paired(memcpy, rounds, runs, headlineOps)
    const fresh = paired(memcpy, rounds, runs, {
      int8_encode_fresh: () => int8.encode(x),
      fp16_encode_fresh: () => fp16.encode(x),
      wire_dense_roundtrip_fresh: () => {
        const { header, payload } = decodeMessage(joinParts(encodeTensor(route, [n], raw.encode(x))))
        decodeTensor(header, payload)
      },
    })
    const decoded = paired(memcpy, rounds, runs, decodeOps(x, k))
    const cpu = pairedCpu(memcpy, rounds * runs, headlineOps)
    const encodings: Record<string, Encoded> = {
      fp16: fp16.encode(x),
      int8: int8.encode(x),
      topk_exact_1pct: topk.encode(x, { k }),
      topk_exact_1pct_fp16_values: topk.encode(x, { k, values: 'float16' }),
      topk_exact_1pct_fp16_deflate: topk.encode(x, { k, values: 'float16', index: 'deflate' }),
      topk_sampled_1pct: topkSampled.encode(x, { k }),
    }
    const results: Record<string, number> = { memcpy_s: timed.baselineSeconds }
    for (const [name, ratio] of Object.entries(timed.ratios)) results[`${name}_vs_memcpy`] = ratio
    for (const [name, e] of Object.entries(encodings)) {
      results[`${name}_bytes_ratio`] = messageBytes(e) / (4 * n)
    }
    return {
      suite: 'compress',
      results,
      targets: {
        topk_exact_1pct_vs_memcpy: '<= 10',
        topk_sampled_1pct_vs_memcpy: '<= 5',
        int8_encode_vs_memcpy: '<= 5',
        fp16_encode_vs_memcpy: '<= 5',
        wire_dense_roundtrip_vs_memcpy: '<= 3',
      },
      details: {
        elements: n,
        k,
        sampled_kept: keptOf(encodings.topk_sampled_1pct),
        seconds: { memcpy: timed.baselineSeconds, ...timed.seconds, ...fresh.seconds },
        fresh_output_vs_memcpy: fresh.ratios,
        decode_vs_memcpy: decoded.ratios,
        // The same ratios in this process's CPU time: what the code costs when the machine is
        // shared and wall time also counts waiting for a core.
        cpu_time_vs_memcpy: cpu,
      },
    }
  },
}

interface Paired {
  /** operation → median over rounds of (operation time / baseline time of the same round) */
  ratios: Record<string, number>
  /** operation → median time, seconds */
  seconds: Record<string, number>
  baselineSeconds: number
}

function paired(baseline: () => void, rounds: number, runs: number, ops: Record<string, () => void>): Paired {
  const names = Object.keys(ops)
  for (const name of names) medianSeconds(ops[name], 1, 1) // compile and warm each one first
  const base: number[] = []
  const times = new Map(names.map((name) => [name, [] as number[]]))
  const ratios = new Map(names.map((name) => [name, [] as number[]]))
  for (let r = 0; r < rounds; r++) {
    for (const name of names) {
      const b = medianSeconds(baseline, runs, 1)
      const t = medianSeconds(ops[name], runs, 0)
      base.push(b)
      times.get(name)!.push(t)
      ratios.get(name)!.push(t / b)
    }
  }
  const medians = (m: Map<string, number[]>) =>
    Object.fromEntries([...m].map(([name, v]) => [name, median(v)]))
  return { ratios: medians(ratios), seconds: medians(times), baselineSeconds: median(base) }
}

/** Median over `count` pairs of (operation CPU time / baseline CPU time), per operation. */
function pairedCpu(
  baseline: () => void,
  count: number,
  ops: Record<string, () => void>,
): Record<string, number> {
  const cpuSeconds = (fn: () => void) => {
    const start = process.cpuUsage()
    fn()
    const used = process.cpuUsage(start)
    return (used.user + used.system) / 1e6
  }
  const result: Record<string, number> = {}
  for (const [name, op] of Object.entries(ops)) {
    op()
    const ratios: number[] = []
    for (let i = 0; i < count; i++) ratios.push(cpuSeconds(op) / cpuSeconds(baseline))
    result[name] = median(ratios)
  }
  return result
}

function decodeOps(x: Float32Array, k: number): Record<string, () => void> {
  const f = fp16.encode(x)
  const q = int8.encode(x)
  const s = topk.encode(x, { k })
  const out = new Float32Array(x.length)
  return {
    fp16_decode: () => fp16.decode(f, out),
    int8_decode: () => int8.decode(q, out),
    topk_decode: () => topk.decode(s, out),
    fp16_decode_fresh: () => fp16.decode(f),
  }
}

function messageBytes(encoded: Encoded): number {
  const parts = encodeTensor(route, [encoded.length], encoded)
  return parts.reduce((sum, p) => sum + p.byteLength, 0)
}

function keptOf(encoded: Encoded): number {
  return (encoded.codecMeta as { k: number }).k
}

/**
 * Normally distributed values with a spread of scales, like a gradient: deterministic (a fixed
 * xorshift seed) so every run measures the same tensor.
 */
function gradientLike(n: number): Float32Array {
  const x = new Float32Array(n)
  let state = 0x9e3779b9
  const next = () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return ((state >>> 0) + 0.5) / 4294967296
  }
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(next()))
    const a = 2 * Math.PI * next()
    const scale = 1e-3 * (1 + (i & 0xff) / 64)
    x[i] = scale * r * Math.cos(a)
    if (i + 1 < n) x[i + 1] = scale * r * Math.sin(a)
  }
  return x
}
