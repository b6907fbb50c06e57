import {describe, expect, it} from 'vitest'

import {topicLag} from '../../src/operations/collectors/queues.js'

/** A consumer group's lag on one topic, as mm status, mm wait and mm dash show it. */
describe('topicLag', () => {
  // As kafkajs's fetchTopicOffsets may list them: not in partition order.
  const topic = [
    {partition: 2, low: '0', high: '7'},
    {partition: 0, low: '0', high: '10'},
    {partition: 1, low: '5', high: '20'},
  ]

  it('sums what each partition has left to read; a partition with no commit yet reads from its low mark', () => {
    const r = topicLag(
      [
        {partition: 0, offset: '4'},
        {partition: 1, offset: '-1'},
        {partition: 2, offset: '7'},
      ],
      topic,
    )
    expect(r).toEqual({lag: 6 + 15 + 0, committed: 4 + 5 + 7, end: 10 + 20 + 7})
  })

  it('matches partitions by number, not by position: a caught-up group has no lag whatever the order', () => {
    const caughtUp = [
      {partition: 1, offset: '20'},
      {partition: 0, offset: '10'},
      {partition: 2, offset: '7'},
    ]
    expect(topicLag(caughtUp, topic).lag).toBe(0)
  })

  it('never goes negative when a commit passed the end offsets read just before it', () => {
    // Partition 0 committed 12 after its end was read as 10; partition 1 still has 5 to read.
    const r = topicLag(
      [
        {partition: 0, offset: '12'},
        {partition: 1, offset: '15'},
      ],
      [
        {partition: 0, low: '0', high: '10'},
        {partition: 1, low: '0', high: '20'},
      ],
    )
    expect(r.lag).toBe(5)
    expect(topicLag([{partition: 0, offset: '14'}], [{partition: 0, low: '0', high: '10'}]).lag).toBe(0)
  })
})
