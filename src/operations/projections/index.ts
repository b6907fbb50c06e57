/**
 * `mm projections verify | rebuild` (PLATFORM.md §3.4, §5). The storage side lives in the query
 * component (services/query/verify.ts, rebuild.ts, runs.ts); these modules connect to the
 * platform, wait for the read model to catch up, report progress and record the runs.
 */
export {type CatchUpResult, waitForCatchUp} from './catch-up.js'
export {openClients, type ProjectionsDeps, requireEndpoints, swapStrategyFor} from './clients.js'
export {type RebuildPlan, rebuildProjections, type RebuildProgressEvent, type RebuildResult} from './rebuild.js'
export {type ProjectionsProgress, verifyProjections, type VerifyResult} from './verify.js'
export {parseViews} from './views.js'
