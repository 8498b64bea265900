/**
 * The packages a browser client will load (sync among them: a federated client takes part in
 * collectives; and sched, which must do no I/O) import no Node built-in and no native module:
 * checked on their sources, since a bundler would only fail at build time.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const packages = fileURLToPath(new URL('../packages/', import.meta.url))
/** Node built-ins (with or without the node: prefix) and native packages a browser cannot load. */
const FORBIDDEN =
  /(?:from\s+|import\s*\(\s*)['"](?:node:[^'"]+|fs|path|os|crypto|child_process|worker_threads|onnxruntime-node)['"]/

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

/** Each package's smallest plausible count of source files: fewer means the walk went wrong. */
const BROWSER_SAFE = { core: 11, compress: 11, sched: 11, simd: 4, sync: 15 }

for (const [name, minFiles] of Object.entries(BROWSER_SAFE)) {
  test(`@atoll/${name} stays browser-safe: no Node built-ins or native modules in src/`, () => {
    const src = join(packages, name, 'src')
    const files = sources(src)
    assert.ok(files.length >= minFiles, `${files.length} source files`)
    const offenders = files
      .filter((f) => FORBIDDEN.test(readFileSync(f, 'utf8')))
      .map((f) => f.slice(src.length))
    assert.deepEqual(offenders, [])
  })
}

test('the check catches what it looks for', () => {
  for (const line of [
    "import { readFileSync } from 'node:fs'",
    "await import('onnxruntime-node')",
    "import x from 'fs'",
  ])
    assert.ok(FORBIDDEN.test(line), line)
  assert.ok(!FORBIDDEN.test("import { msgpack } from 'msgpackr'"))
})
