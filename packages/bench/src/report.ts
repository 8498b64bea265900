import type { BenchReport } from './suite.ts'

/** A readable table of a report: figure, value, target and whether the target is met. */
export function formatReport(report: BenchReport): string {
  const rows = Object.entries(report.results).map(([name, value]) => {
    const target = report.targets?.[name] ?? ''
    const verdict = target === '' ? '' : meetsTarget(value, target) ? 'ok' : 'MISSED'
    return [name, formatNumber(value), target, verdict]
  })
  const widths = [0, 1, 2].map((i) => Math.max(8, ...rows.map((r) => r[i].length)))
  const line = (r: string[]) => r.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c)).join('  ')
  return [`suite: ${report.suite}`, line(['figure', 'value', 'target', '']), ...rows.map(line)].join('\n')
}

/** Whether `value` satisfies a target written as `<= x` or `>= x`. */
export function meetsTarget(value: number, target: string): boolean {
  const m = /^(<=|>=)\s*(-?[\d.e+-]+)$/.exec(target.trim())
  if (m === null) return true
  const bound = Number(m[2])
  return m[1] === '<=' ? value <= bound : value >= bound
}

/**
 * Each figure with its target (`report` where it has none), whether the target is met, the runs it
 * came from and the links they ran over: a suite's `details.figures`.
 */
export function figureTable(
  results: Readonly<Record<string, number>>,
  targets: Readonly<Record<string, string>>,
  runsOf: Readonly<Record<string, readonly string[]>>,
  links: string,
): Record<
  string,
  { value: number; target: string; met: boolean | null; runs: readonly string[]; links: string }
> {
  return Object.fromEntries(
    Object.entries(results).map(([name, value]) => [
      name,
      {
        value,
        target: targets[name] ?? 'report',
        met: targets[name] === undefined ? null : meetsTarget(value, targets[name]),
        runs: runsOf[name] ?? [],
        links,
      },
    ]),
  )
}

function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v)
  return Math.abs(v) >= 1000 || Math.abs(v) < 0.001 ? v.toExponential(3) : v.toPrecision(4)
}
