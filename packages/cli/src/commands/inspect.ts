import type { GraphSummary } from '@atoll/core'
import { flagSpec, flagUsage, numeric, parseFlags, readFlags, readInput, UsageError } from '@atoll/flags'
import * as z from 'zod/mini'
import type { Command } from '../command.ts'
import { bindingsFlag } from './model-args.ts'

const FLAGS = {
  bind: { arg: 'batch=8,seq=128', what: 'values for symbolic input dimensions', schema: z.string() },
  depth: {
    arg: 'N',
    what: 'group scopes by their first N dotted parts (h.3.attn → h.3 at 2)',
    schema: numeric(z.int().check(z.gte(1), z.lte(64))),
  },
  json: { what: 'print the summary as JSON' },
}

const usage = [
  'Usage: atoll inspect MODEL.onnx [--bind NAME=N,…] [--depth N] [--json]',
  '',
  'Summarises an ONNX model: op histogram, parameter count, weights kept in Constant nodes (which',
  'fit, grads and eval take as parameters with --train-constants), unsupported ops, and FLOPs of one',
  'forward pass per scope (layer). Symbolic input dimensions count as 1 unless bound. Opsets 7-12',
  'are read as upgraded to 13, the opset shown.',
  '',
  ...flagUsage(FLAGS),
  '',
  'Exit code 0, or 3 when the model has ops Atoll cannot run (they are listed).',
].join('\n')

const si = (n: number) => {
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ]
  const u = units.find(([v]) => n >= v)
  return u === undefined ? String(n) : `${(n / u[0]).toFixed(2)}${u[1]}`
}

/** Weights kept in Constant nodes, which --train-constants (fit, grads, eval) makes parameters. */
function constantWeightLines(weights: GraphSummary['constantWeights']): string[] {
  if (weights.count === 0) return []
  return [
    '',
    `constant weights: ${weights.count.toLocaleString('en-US')} Constant nodes holding ${weights.elements.toLocaleString('en-US')} elements (trainable with --train-constants); largest:`,
    ...weights.largest.map(
      (w) =>
        `  ${w.name.padEnd(32)} [${w.shape.join(', ')}]`.padEnd(56) +
        w.elements.toLocaleString('en-US').padStart(10),
    ),
  ]
}

export function formatSummary(summary: GraphSummary): string {
  const lines = [
    `model ${summary.name}: opset ${summary.opset}, ${summary.nodes} nodes`,
    `parameters: ${summary.parameters.toLocaleString('en-US')} in ${summary.parameterTensors} tensors (+ ${summary.stateElements.toLocaleString('en-US')} non-trainable state elements)`,
    '',
    'ops:',
    ...summary.ops.map(([op, n]) => `  ${op.padEnd(28)} ${String(n).padStart(6)}`),
    ...constantWeightLines(summary.constantWeights),
  ]
  if (summary.unsupported.length > 0) {
    lines.push('', 'unsupported ops:')
    for (const u of summary.unsupported) {
      lines.push(
        `  ${(u.domain ? `${u.domain}.` : '') + u.opType} ×${u.count} (first: node '${u.firstNode}')`,
      )
    }
  }
  lines.push('')
  if (summary.scopes === undefined) lines.push(`FLOPs: not counted (${summary.flopsError})`)
  else {
    const bound = Object.entries(summary.bindings).map(([k, v]) => `${k}=${v}`)
    lines.push(
      `FLOPs per forward pass${bound.length > 0 ? ` (${bound.join(', ')})` : ''}: ${si(summary.flops ?? 0)}`,
    )
    for (const c of summary.scopes) {
      const share = summary.flops ? ((100 * c.flops) / summary.flops).toFixed(1) : '0.0'
      lines.push(
        `  ${(c.scope || '(no scope)').padEnd(32)} ${si(c.flops).padStart(9)} ${share.padStart(5)}%  ${String(c.nodes).padStart(5)} nodes`,
      )
    }
  }
  return lines.join('\n')
}

export const inspect: Command = {
  name: 'inspect',
  summary: 'summarise an ONNX model: ops, parameters, FLOPs per scope, unsupported ops',
  usage,
  async run(args) {
    const { values, positionals } = parseFlags(args, flagSpec(FLAGS), true)
    if (positionals.length !== 1) throw new UsageError('name exactly one ONNX file')
    const { bind, depth, json } = readFlags(FLAGS, values)
    // loaded here, not at the top: `atoll --help` and the other commands do not need core
    const { importOnnxGraph, inputSymbols, summarizeGraph } = await import('@atoll/core')
    const graph = importOnnxGraph(readInput(positionals[0], 'MODEL.onnx'), { supportedOps: 'any' })
    const bindings = bindingsFlag(bind, inputSymbols(graph))
    const summary = summarizeGraph(graph, { bindings, depth })
    console.log(json ? JSON.stringify(summary, null, 2) : formatSummary(summary))
    return summary.unsupported.length > 0 ? 3 : 0
  },
}
