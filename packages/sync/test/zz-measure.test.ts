import { test } from 'node:test'
import { groupsOf, loopbackMeshes, spreadValues, stopMeshes } from '/work/main/packages/sync/test/helpers.ts'
test('measure', async () => {
  const meshes = await loopbackMeshes(4)
  for (const [n, len, piece] of [
    [4, 1000, 16],
    [4, 100000, 1024],
    [4, 1_000_000, 65536],
    [2, 1000, 16],
    [4, 4, 16],
  ] as const) {
    const groups = groupsOf(meshes.slice(0, n), {
      group: `m${n}-${len}`,
      pieceElements: piece,
      deadline: { floorSeconds: 60 },
    })
    for (let r = 0; r < 3; r++) {
      const t = performance.now()
      await Promise.all(groups.map((g, i) => g.allReduce(r, spreadValues(len, i))))
      console.log(n, len, piece, (performance.now() - t).toFixed(1), 'ms')
    }
    for (const g of groups) g.close()
  }
  await stopMeshes(meshes)
})
