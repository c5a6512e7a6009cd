export { parseLoadFlags, parseGatewayUrl, FlagError, USAGE, type LoadOptions } from './flags';
export { GatewayHttp, OffOriginError, retryAfterMs } from './http';
export { runLoad, type LoadSummary, type ProgressSnapshot } from './run';
export { ArrivalSchedule, IdlePool } from './scheduler';
export { SseParser, LiveStreamClient } from './sse';
export { RunStats, Latencies, percentile } from './stats';
export { progressLine, summaryLines } from './report';
