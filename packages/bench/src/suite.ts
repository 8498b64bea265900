/** What a benchmark suite returns: figures that are ratios against a baseline measured in the same run. */
export interface BenchReport {
  suite: string
  /** figure name → value (ratios unless the name says otherwise, e.g. `_s`, `_bytes_ratio`) */
  results: Record<string, number>
  /** targets the figures are held to, by figure name: `<= 10`, `>= 0.9` */
  targets?: Record<string, string>
  /** absolute measurements behind the ratios, for the record (they vary between machines) */
  details?: Record<string, unknown>
}

export interface BenchOptions {
  /** fewer, smaller runs: a smoke test of the suite, not a measurement */
  quick: boolean
  log(message: string): void
}

export interface BenchSuite {
  name: string
  summary: string
  run(options: BenchOptions): Promise<BenchReport>
}
