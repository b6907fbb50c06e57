/**
 * A rebuild in a process of its own, for the test that kills one midway (projections.int.test.ts):
 * it rebuilds with pages of 2 documents and, once `orders_view`'s shadow holds `pauseAfter`
 * documents, says PAUSED on stdout and blocks (synchronously: nothing else runs) until killed.
 *
 *   node --import tsx rebuild-child.ts <postgres url> <mongo url> <mongo database> <pauseAfter>
 */
import {writeSync} from 'node:fs'

import {MongoClient} from 'mongodb'
import pg from 'pg'

import {rebuildViews} from '../../../services/query/rebuild.js'

const [pgUrl, mongoUrl, database, pauseAfter] = process.argv.slice(2)
const pool = new pg.Pool({connectionString: pgUrl, max: 4})
const mongo = new MongoClient(mongoUrl!, {directConnection: true})
await mongo.connect()
await rebuildViews(
  {pool, db: mongo.db(database)},
  {
    swap: 'copy',
    batchSize: 2,
    onProgress: (p) => {
      if (p.phase === 'build' && p.view === 'orders_view' && p.done >= Number(pauseAfter)) {
        writeSync(1, 'PAUSED\n')
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0) // until SIGKILL
      }
    },
  },
)
writeSync(1, 'FINISHED\n')
await Promise.all([pool.end(), mongo.close()])
