/**
 * Benchmark suites. Each prints JSON with its figures and the baseline measured in the same run;
 * benchmarks are not tests (they assert nothing about time).
 *
 * @example
 * ```ts
 * import { suites, formatReport } from '@atoll/bench'
 * const report = await suites.find((s) => s.name === 'compress')!.run({ quick: true, log: console.error })
 * console.log(formatReport(report))
 * ```
 */
export { median, medianSeconds, medianSecondsAsync } from './measure.ts'
export { formatReport, meetsTarget } from './report.ts'
export type { BenchOptions, BenchReport, BenchSuite } from './suite.ts'
export { suites } from './suites/index.ts'
export { type FlBenchOptions, runFlBench } from './suites/fl.ts'
export { type PipelineBenchOptions, runPipelineBench } from './suites/pipeline.ts'
export { runSyncBench, type SyncBenchOptions } from './suites/sync.ts'
