import type { GraphSummary } from '@atoll/core'
import { numberFlag, parseFlags, readInput, UsageError } from '@atoll/flags'
import type { Command } from '../command.ts'
import { bindingsFlag } from './model-args.ts'

const usage = [
  'Usage: atoll inspect MODEL.onnx [--bind NAME=N,…] [--depth N] [--json]',
  '',
  'Summarises an ONNX model: op histogram, parameter count, ops Atoll does not support, and FLOPs',
  'of one forward pass per scope (layer). Symbolic input dimensions count as 1 unless bound.',
  '',
  '  --bind batch=8,seq=128   values for symbolic input dimensions',
  '  --depth N                group scopes by their first N dotted parts (h.3.attn → h.3 at 2)',
  '  --json                   print the summary as JSON',
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

export function formatSummary(summary: GraphSummary): string {
  const lines = [
    `model ${summary.name}: opset ${summary.opset}, ${summary.nodes} nodes`,
    `parameters: ${summary.parameters.toLocaleString('en-US')} in ${summary.parameterTensors} tensors (+ ${summary.stateElements.toLocaleString('en-US')} non-trainable state elements)`,
    '',
    'ops:',
    ...summary.ops.map(([op, n]) => `  ${op.padEnd(28)} ${String(n).padStart(6)}`),
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
    const { values, positionals } = parseFlags(
      args,
      { bind: { type: 'string' }, depth: { type: 'string' }, json: { type: 'boolean', default: false } },
      true,
    )
    if (positionals.length !== 1) throw new UsageError('name exactly one ONNX file')
    const depth = numberFlag('depth', values.depth, { min: 1, max: 64, integer: true })
    // loaded here, not at the top: `atoll --help` and the other commands do not need core
    const { importOnnxGraph, inputSymbols, summarizeGraph } = await import('@atoll/core')
    const graph = importOnnxGraph(readInput(positionals[0], 'MODEL.onnx'), { supportedOps: 'any' })
    const bindings = bindingsFlag(values.bind, inputSymbols(graph))
    const summary = summarizeGraph(graph, { bindings, depth })
    console.log(values.json ? JSON.stringify(summary, null, 2) : formatSummary(summary))
    return summary.unsupported.length > 0 ? 3 : 0
  },
}
