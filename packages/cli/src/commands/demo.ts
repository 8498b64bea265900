import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { USAGE } from '../../../../examples/mesh-demo/src/options.ts'
import type { Command } from '../command.ts'

const job = fileURLToPath(new URL('../../../../examples/mesh-demo/src/main.ts', import.meta.url))

/** Runs the mesh demo example (examples/mesh-demo) with the arguments given; its usage is the example's own. */
export const demo: Command = {
  name: 'demo',
  summary: 'three peers on this machine with slow links train a small GPT as a pipeline over the mesh',
  usage: USAGE,
  run(args) {
    const child = spawn(process.execPath, [job, ...args], { stdio: 'inherit' })
    return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))))
  },
}
