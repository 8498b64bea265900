import { USAGE } from '../../../../examples/mesh-demo/src/options.ts'
import type { Command } from '../command.ts'

/**
 * Runs the mesh demo example (examples/mesh-demo) in this process, so that Ctrl-C reaches one
 * program, which stops the peer processes it started; its usage is the example's own.
 */
export const demo: Command = {
  name: 'demo',
  summary: 'four peer processes in two sites on this machine train a small GPT as a job over the mesh',
  usage: USAGE,
  async run(args) {
    // imported here: libp2p and onnxruntime would slow down every other command
    const { demoProgram } = await import('../../../../examples/mesh-demo/src/program.ts')
    return demoProgram.run(args)
  },
}
