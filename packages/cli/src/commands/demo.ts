import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Command } from '../command.ts'

const job = fileURLToPath(new URL('../../../../examples/mesh-demo/src/main.ts', import.meta.url))

/** Runs the mesh demo example (examples/mesh-demo) with the arguments given. */
export const demo: Command = {
  name: 'demo',
  summary: 'three peers on this machine with slow links train a small GPT as a pipeline over the mesh',
  usage: [
    'Usage: atoll demo [--steps N] [--batch-size B] [--micro-batches M] [--lr X] [--seed S] [--json FILE]',
    '',
    'Starts three peers on 127.0.0.1 (lab, cloud, home) joined by emulated links of 200, 20 and',
    '10 Mbit/s, measures each link, places gpt2:tiny as three pipeline stages along the fastest chain',
    'and trains it on Moby Dick (1F1B micro-batches, AdamW): every activation and gradient at a stage',
    'boundary crosses the mesh, as fp16 on links under 100 Mbit/s. About half a minute on 2 cores.',
    '',
    'Options:',
    '  --steps N          optimizer steps (default 150)',
    '  --batch-size B     sequences of 32 bytes per step (default 16)',
    '  --micro-batches M  micro-batches per step; must divide B (default 2)',
    '  --lr X             peak learning rate of the cosine schedule (default 0.003)',
    '  --seed S           weights and data order (default 0)',
    '  --log-every K      progress every K steps (default 10)',
    '  --json FILE        write the summary (links, placement, losses, bytes per link) as JSON',
  ].join('\n'),
  run(args) {
    const child = spawn(process.execPath, [job, ...args], { stdio: 'inherit' })
    return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))))
  },
}
