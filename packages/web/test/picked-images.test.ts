/** Picked files' labels come from their folder or name; grey levels follow the dataset's convention. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { PickedImagesError } from '../src/errors.ts'
import { greyLevels, labelOf } from '../src/picked-images.ts'

test("a file's class is its folder, or the start of its name, by number or by name", () => {
  const cases: [string, number][] = [
    ['trouser/01.png', 1],
    ['shots/Ankle boot/a.jpg', 9],
    ['t-shirt_1.png', 0],
    ['TShirtTop_x.webp', 0],
    ['7_sneaker.png', 7],
    ['bag.png', 8],
  ]
  for (const [path, label] of cases) assert.equal(labelOf(path), label, path)
  for (const bad of ['hat_1.png', '12_x.png', 'photos/IMG_0001.jpg'])
    assert.throws(
      () => labelOf(bad),
      (err: Error) => err instanceof PickedImagesError && err.message.startsWith(`'${bad}'`),
      bad,
    )
})

test('grey levels are exact for grey pixels, and a light background is inverted', () => {
  const grey = Uint8Array.from([0, 10, 0, 0, 200, 0, 0, 30, 0])
  const rgba = (levels: Uint8Array) => Uint8Array.from(Array.from(levels).flatMap((v) => [v, v, v, 255]))
  assert.deepEqual(greyLevels(rgba(grey), 3, 3), grey)
  const light = grey.map((v) => 255 - v)
  assert.deepEqual(greyLevels(rgba(light), 3, 3), grey)
  // colour: BT.601 weights
  assert.deepEqual(greyLevels(Uint8Array.from([255, 0, 0, 255]), 1, 1), Uint8Array.from([76]))
})
