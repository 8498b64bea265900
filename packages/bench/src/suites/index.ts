import type { BenchSuite } from '../suite.ts'
import { compress } from './compress.ts'
import { onnx } from './onnx.ts'
import { transport } from './transport.ts'

/** Every suite `atoll bench` knows, registered explicitly. */
export const suites: BenchSuite[] = [compress, onnx, transport]
