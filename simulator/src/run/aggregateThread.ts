// Entry point of an aggregation thread (see aggregatePool.ts): serves the synthetic mode's
// aggregations. Loaded from its compiled copy, simulator/dist/run/aggregateThread.js.
import { serveTasks } from '@canopy/core/compute/thread';
import { aggregateTaskHandlers } from './aggregateTasks.js';

serveTasks(aggregateTaskHandlers());
