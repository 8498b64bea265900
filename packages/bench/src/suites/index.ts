import type { BenchSuite } from '../suite.ts'

/** Every suite `atoll bench` knows, registered explicitly. */
export const suites: BenchSuite[] = []
