import { flagSpec, flagUsage, parseFlags, readFlags, UsageError } from '@atoll/flags'
import * as z from 'zod/mini'
import type { Command } from '../command.ts'

const FLAGS = {
  gpu: { what: "install onnxruntime's CUDA provider, which --device cuda needs" },
  from: {
    arg: 'FILE.tgz',
    what: 'the provider package, fetched elsewhere with `npm pack com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9`\n(for a GPU machine without the npm registry; default: fetch it)',
    schema: z.string(),
  },
}

const usage = [
  'Usage: atoll setup --gpu [--from FILE.tgz]',
  '',
  "Installs onnxruntime 1.29.0's CUDA 13 provider from the npm registry (about 180 MB) beside",
  "onnxruntime-node's core, checks the CUDA 13 libraries it links against (the CUDA toolkit's lib",
  'folders, LD_LIBRARY_PATH, or the nvidia wheels of a Python where PyTorch for cu130 is installed),',
  'and where an NVIDIA GPU is present, runs a probe session on it. ./atoll runs this once by itself',
  'on a machine with nvidia-smi.',
  '',
  ...flagUsage(FLAGS),
  '',
  'Exit code 0 when the provider is installed and (where a GPU is) computes; 1 otherwise, naming what is missing.',
].join('\n')

export const setup: Command = {
  name: 'setup',
  summary: "install optional parts: onnxruntime's CUDA provider for GPU peers (--gpu)",
  usage,
  async run(args) {
    const { values, positionals } = parseFlags(args, flagSpec(FLAGS))
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`)
    const { gpu, from } = readFlags(FLAGS, values)
    if (!gpu) throw new UsageError('name what to set up: --gpu')
    // loaded here: the other commands do not need onnxruntime
    const { cudaPresence, findCudaLibraries, installCudaProvider, nodeBackends } = await import(
      '@atoll/runtime'
    )
    const log = (line: string) => console.error(`setup: ${line}`)
    await installCudaProvider({ tarball: from, log })
    const libraries = findCudaLibraries()
    for (const [soname, path] of libraries.found) log(`${soname}: ${path}`)
    const presence = cudaPresence()
    if (presence.status === 'absent') {
      log(`the provider is installed; ${presence.missing}, so nothing to probe`)
      return 0
    }
    if (presence.status === 'incomplete') {
      log(presence.missing)
      return 1
    }
    await nodeBackends().resolve('cuda')
    log('cuda: a probe session ran on the GPU and computed the right answer; --device cuda is ready')
    return 0
  },
}
