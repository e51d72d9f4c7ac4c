// Entry point of a compute thread: serves the ML tasks (see mlTasks.ts).
import { workerData } from 'node:worker_threads';
import { serveTasks } from './serveTasks.js';
import { mlTaskHandlers } from './mlTasks.js';
import type { BackendPreference } from '../ml/index.js';

const { backend } = (workerData ?? {}) as { backend?: BackendPreference };
serveTasks(mlTaskHandlers(backend ?? 'auto'));
