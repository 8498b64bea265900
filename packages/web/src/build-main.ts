/**
 * `node packages/web/src/build-main.ts [--force]`: builds the browser client unless dist/ is
 * current. `./atoll`'s set-up runs it on a fresh clone and after an install.
 */
import { ensureWebClient } from './build.ts'

const dir = await ensureWebClient({
  force: process.argv.includes('--force'),
  log: (line) => console.error(line),
})
console.error(`atoll: the browser client is in ${dir}`)
