import {describe, expect, it} from 'vitest'

import {topicLag} from '../../src/operations/collectors/queues.js'

/** A consumer group's lag on one topic, as mm status and mm dash show it. */
describe('topicLag', () => {
  const offsets = {low: [0n, 5n, 0n], high: [10n, 20n, 7n]}

  it('sums what each partition has left to read; a partition with no commit yet reads from its low mark', () => {
    const r = topicLag(
      [
        {partition: 0, offset: '4'},
        {partition: 1, offset: '-1'},
        {partition: 2, offset: '7'},
      ],
      offsets,
    )
    expect(r).toEqual({lag: 6 + 15 + 0, committed: 4 + 5 + 7, end: 10 + 20 + 7})
  })

  it('never goes negative when a commit passed the end offsets read just before it', () => {
    // Partition 0 committed 12 after its end was read as 10; partition 1 still has 5 to read.
    const r = topicLag(
      [
        {partition: 0, offset: '12'},
        {partition: 1, offset: '15'},
      ],
      {low: [0n, 0n], high: [10n, 20n]},
    )
    expect(r.lag).toBe(5)
    expect(topicLag([{partition: 0, offset: '14'}], {low: [0n], high: [10n]}).lag).toBe(0)
  })
})
