/**
 * A GPU backend for tests that need one. They skip only where its hardware is absent (decided
 * without starting it: see `presence`), and never where ATOLL_REQUIRE_DEVICE names it (`webgpu`,
 * `cuda` or a comma list), so that a run on a GPU machine proves the GPU path. Where the hardware
 * is present, a missing driver, loader or provider library, or a backend that does not start, fails
 * every test that asks for it, with what is missing or the backend's own error.
 */
import { type Backend, type BackendRegistry, DeviceAbsentError } from '../src/index.ts'

export interface DeviceUnderTest {
  /** the skip reason, or false: pass it as the test's `skip` option */
  skip: string | false
  /** the started backend; rejects with why it did not start */
  backend(): Promise<Backend>
}

export function deviceUnderTest(
  registry: BackendRegistry,
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): DeviceUnderTest {
  const presence = registry.presence(name)
  const backend = () => registry.resolve(name)
  if (presence.status !== 'absent') return { skip: false, backend }
  const required = (env.ATOLL_REQUIRE_DEVICE ?? '').split(',').map((s) => s.trim())
  if (!required.includes(name)) return { skip: presence.missing, backend }
  const absent = new DeviceAbsentError(`ATOLL_REQUIRE_DEVICE=${name}, but ${presence.missing}`)
  return { skip: false, backend: () => Promise.reject(absent) }
}
