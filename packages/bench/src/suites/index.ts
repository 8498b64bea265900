import type { BenchSuite } from '../suite.ts'
import { autodiff } from './autodiff.ts'
import { compress } from './compress.ts'
import { executor } from './executor.ts'
import { fl } from './fl.ts'
import { onnx } from './onnx.ts'
import { pipeline } from './pipeline.ts'
import { sched } from './sched.ts'
import { sync } from './sync.ts'
import { transport } from './transport.ts'

/** Every suite `atoll bench` knows, registered explicitly. */
export const suites: BenchSuite[] = [autodiff, compress, executor, fl, onnx, pipeline, sched, sync, transport]
