/**
 * `atoll demo`: four `atoll peer` processes on this machine in two sites joined by an emulated slow
 * link, training a small GPT as a job planned by OP-Fence with AdaTopK on the fence, coordinated
 * from this process; OUT/summary.json and OUT/report.html at the end.
 *
 * @example
 * ```sh
 * ./atoll demo                               # `./atoll demo --help` for the options
 * node examples/mesh-demo/src/main.ts --steps 30 --out /tmp/demo
 * ```
 */
import { runProgram } from '@atoll/flags'
import { demoProgram } from './program.ts'

process.exitCode = await runProgram(demoProgram, process.argv.slice(2))
