/** Temporary directories for one test file, removed once its tests have run (pass or fail). */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'

const made: string[] = []
after(() => Promise.all(made.map((d) => rm(d, { recursive: true, force: true }))))

/** A fresh directory `atoll-<purpose>-XXXXXX` under the system's temporary directory. */
export async function tempDir(purpose: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `atoll-${purpose}-`))
  made.push(dir)
  return dir
}
