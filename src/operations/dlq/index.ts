/**
 * `mm dlq list | show | replay | purge` over both brokers (PLATFORM.md §4, §5).
 *
 * What a DLQ is: for every Kafka topic of the topology its `<topic>.dlq` topic, for every
 * RabbitMQ queue its `<queue>.dlq` queue (namespaced, see catalog.ts). Commands accept the DLQ's
 * name or the name of the topic/queue it belongs to; anything else is a usage error (exit 2)
 * listing the known names.
 *
 * Behaviour choices, and why:
 *
 * - Kafka progress is a consumer group per DLQ, `mm.dlq-replay.<topic>.dlq`, that never has
 *   members: its committed offsets say how far the DLQ was replayed or purged. Pending =
 *   last stable offset minus that committed offset (minus the earliest offset when the group never
 *   committed, or when retention deleted what it pointed to). `list`/`show` read the pending
 *   messages, so their counts are exact up to the scan limit (1000 for list); past it the count
 *   is the offset distance, flagged `approximate`, because a replay that parks messages leaves one
 *   transaction marker per batch in the DLQ (markers take an offset but are not messages).
 * - RabbitMQ pending = the queue's ready messages (queue.declare passive). Messages held
 *   unacknowledged by someone else are not counted.
 * - Reading never changes anything. Kafka: a throwaway consumer group (`mm.dlq-reader.<uuid>`)
 *   that never commits, seeks to the replay group's offsets, stops at the snapshot end, and is
 *   deleted afterwards; `show` lists the oldest first across partitions. RabbitMQ: basic.get
 *   without auto-ack, then one nack-all with requeue; RabbitMQ puts requeued messages back at
 *   their original positions, so order is kept, but they come back flagged `redelivered`, and
 *   while held they are not counted as ready by a concurrent list.
 * - Replay sends each message where it failed, with key, value and headers as they are plus
 *   `x-replay-count` (set in place, or appended). Kafka: to `x-original-topic` (the topic the DLQ
 *   belongs to when absent), on `x-original-partition` when that partition still exists, else by key.
 *   RabbitMQ: straight to the source queue through the default exchange, every AMQP property and
 *   header kept (x-death too; a message rejected again is dead-lettered again); not to the
 *   original exchange, which would also copy the message into every other queue bound to it
 *   (consumers that already succeeded).
 * - Snapshot: fixed before anything moves (Kafka: last stable offsets per partition; RabbitMQ: the
 *   ready count, messages that arrive later queue behind it). A replay never chases new arrivals.
 * - Exactly once on Kafka: every batch (about a second's worth, at most 100 messages) is one
 *   transaction holding the replayed messages and the replay group's new offset
 *   (sendOffsets), with a fixed transactional id per DLQ. A crash or Ctrl-C replays-and-commits
 *   a batch completely or not at all; the next replay's InitProducerId aborts whatever a crashed
 *   one left open (read_committed consumers never see it) and fences a replay still running.
 * - Visible before counted: Kafka answers a commit (EndTxn) before it has written the commit
 *   markers, so for a moment the group's offsets read back the old position (kafkajs has no
 *   OffsetFetch require_stable) and read_committed readers stop before the replayed records. After
 *   each commit a replay (and a purge) polls until the group's offsets and the last stable offsets
 *   of the partitions it wrote show the transaction (deadline 30 s, then an error saying it did
 *   commit); only then does the batch count. So `list` right after a replay is exact, the next
 *   replay starts after it, and consumers already see it. A `list` run while a replay is under
 *   way may still count the batch being committed.
 * - RabbitMQ: publish `mandatory` on a confirm channel, ack the DLQ messages only after the
 *   broker confirmed (and did not return) the republish. Honest limit: an interruption between
 *   the confirm and the ack leaves that message in the DLQ too, so a later replay may deliver it
 *   twice; consumers deduplicate by message_id/event_id (PLATFORM.md §4).
 * - Loop guard: a message whose x-replay-count is at least --max-replays (default 3) is not
 *   replayed; it is appended again, unchanged, to the end of its DLQ (Kafka: same partition, in
 *   the same transaction as the offset that moves past it; RabbitMQ: confirmed before the ack).
 *   So it stays visible to list/show and is counted as skipped; the snapshot keeps this run from
 *   reaching it again. Its position moves to the back of the DLQ.
 * - --limit caps the messages handled (replayed + skipped); on Kafka, across partitions, in the
 *   order the fetches return them (per partition in offset order). --rate caps messages per
 *   second and never bursts to catch up.
 * - --dry-run fixes the snapshot and reads it (up to 10,000 messages) to count what would be
 *   replayed and skipped; it changes nothing (Kafka: no producer, no commit).
 * - Purge, Kafka: the replay group's offsets move to the snapshot end in a transaction with the
 *   same transactional id (so it also fences a running replay). The records stay on disk until
 *   retention, so an operator can rewind the group; deleteRecords would make that impossible.
 *   Purge, RabbitMQ: queue.purge (every ready message at that moment).
 * - Confirmation (in the command): y/N on a terminal, `--yes` otherwise (without it: usage error,
 *   exit 2, nothing read). Answering no changes nothing and exits 1. Ctrl-C stops between
 *   messages, commits what was already sent, prints the counts and exits 130.
 */
export {dlqCatalog, replayGroupOf, resolveDlq, transactionalIdOf, type Broker, type DlqDeps, type DlqEntry} from './catalog.js'
export {requireEndpoints} from './clients.js'
export {listDlqs} from './list.js'
export type {DlqMessage, ErrorClassCount} from './messages.js'
export {purgeDlq, type PurgeDlqOptions} from './purge.js'
export {replayDlq, type ReplayDlqOptions} from './replay.js'
export {showDlq} from './show.js'
export type {DlqListResult, DlqPlan, DlqShowResult, DlqSummary, PurgeResult, ReplayResult} from './types.js'
