/**
 * Where the layer profiles published with DreamDDP live: `profiles/dreamddp/` beside `src/`, shipped
 * with this package (its README says where they come from) so that sched's tests, the CLI's and the
 * benchmarks read the same real inputs in a plain clone. One folder per
 * `<model>-<workers>w-<bandwidth>` holds bp.json, comm.json, reference-schedule.json and
 * reference-results.json. A location only: sched itself reads no files.
 */
export const PUBLISHED_PROFILES: URL = new URL('../../profiles/dreamddp/', import.meta.url)
