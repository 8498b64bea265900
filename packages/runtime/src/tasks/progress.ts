/** What a training step reports that a progress line needs (`fit` passes it to `onStep`). */
export interface StepDone {
  /** 0-based */
  step: number
  loss: number
  lr: number
  seconds: number
}

/** A progress line's figures. */
export interface Progress {
  /** steps done, of `total` */
  done: number
  total: number
  /** the mean loss of the steps since the previous line */
  loss: number
  lr: number
  /** seconds in steps since the first */
  seconds: number
}

/**
 * An `onStep` for `fit` that calls `show` every `every` steps and after the last one, with the mean
 * loss since the previous call: a progress line that does not flood the terminal.
 */
export function stepProgress(
  total: number,
  every: number,
  show: (p: Progress) => void,
): (r: StepDone) => void {
  let sum = 0
  let count = 0
  let seconds = 0
  return (r) => {
    sum += r.loss
    count++
    seconds += r.seconds
    const done = r.step + 1
    if (done % every !== 0 && done !== total) return
    show({ done, total, loss: sum / count, lr: r.lr, seconds })
    sum = 0
    count = 0
  }
}
