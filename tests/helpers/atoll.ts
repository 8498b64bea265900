/** `atoll` and the examples as processes, for tests: run to completion, output as text. */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
import { fileURLToPath } from 'node:url'

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

/** Runs a Node script of the repository (its path from the root) with `args`. */
export function runScript(script: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, [join(repoRoot, script), ...args], { encoding: 'utf8', env })
}

/** Runs `atoll ARGS…`. */
export function atoll(...args: string[]) {
  return runScript('packages/cli/src/main.ts', args)
}

/** A fresh folder under the system's temporary one, removed when the test file is done. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}
