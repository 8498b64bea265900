import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const src = fileURLToPath(new URL('../src/', import.meta.url))
/** Node built-ins (with or without the node: prefix) and native packages a browser cannot load. */
const FORBIDDEN =
  /(?:from\s+|import\s*\(\s*)['"](?:node:[^'"]+|fs|path|os|crypto|child_process|worker_threads|onnxruntime-node)['"]/

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

test('@atoll/core stays browser-safe: no Node built-ins or native modules in src/', () => {
  const files = sources(src)
  assert.ok(files.length > 20)
  const offenders = files
    .filter((f) => FORBIDDEN.test(readFileSync(f, 'utf8')))
    .map((f) => f.slice(src.length))
  assert.deepEqual(offenders, [])
})
