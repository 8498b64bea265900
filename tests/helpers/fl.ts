/**
 * The FL test files' federations: an FL.yaml written from its fields, and the metrics.jsonl the
 * server keeps in its checkpoint folder (every test's is `ckpt`, beside the FL.yaml) read back.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FlRoundMetrics } from '../../packages/peer/src/index.ts'

/** Writes `fields` as an FL.yaml, one `key: value` line each (values are YAML already). */
export function writeFlFile(file: string, fields: Record<string, string | number>): void {
  writeFileSync(
    file,
    `${Object.entries(fields)
      .map(([key, value]) => `${key}: ${value}`)
      .join('\n')}\n`,
  )
}

/** The rounds the server in `dir` has recorded, one metrics line each. */
export function flMetrics(dir: string): FlRoundMetrics[] {
  return readFileSync(join(dir, 'ckpt', 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as FlRoundMetrics)
}
