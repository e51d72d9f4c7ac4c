import type { Api, BatchProgress, LogEntry, MetricPoint, OutboxEntry } from '../api/types';
import type { AppStore } from './appStore';

/** How often high-rate events (batch progress, logs, outbox) reach the store. */
export const FLUSH_MS = 200;

/**
 * Loads the node's snapshot into the store and keeps it current from the API's events.
 * Batch progress, logs and outbox entries can arrive hundreds of times a second while
 * training, so they are buffered and written to the store at most every {@link FLUSH_MS};
 * a window re-renders five times a second rather than per message. Returns the unbinder.
 */
export async function bindApi(store: AppStore, api: Api, flushMs = FLUSH_MS): Promise<() => void> {
  store.attach(api);
  const s = () => store.getState();
  let progress = new Map<string, BatchProgress>();
  let logs: LogEntry[] = [];
  let outbox: OutboxEntry[] = [];
  let metrics: MetricPoint[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = (): void => {
    timer = undefined;
    const [p, l, o, m] = [[...progress.values()], logs, outbox, metrics];
    progress = new Map();
    logs = [];
    outbox = [];
    metrics = [];
    s().setProgress(p);
    s().addLogs(l);
    s().addOutbox(o);
    s().addMetrics(m);
  };
  const later = (): void => {
    timer ??= setTimeout(flush, flushMs);
  };

  // Subscribe before the snapshot, so nothing that happens in between is lost; the slices
  // ignore duplicates by id.
  const offs = [
    api.onNode((n) => s().setNode(n)),
    api.onInvitation((i) => s().upsertInvitation(i)),
    api.onConsentPrompt((p) => s().addPrompt(p)),
    api.onConsentClosed(({ id }) => s().closePrompt(id)),
    api.onReceipt((r) => s().addReceipt(r)),
    api.onTraining((j) => s().upsertJob(j)),
    api.onMetric((m) => {
      metrics.push(m);
      later();
    }),
    api.onProgress((p) => {
      progress.set(`${p.rootId}/${p.job}`, p);
      later();
    }),
    api.onOutbox((e) => {
      outbox.push(e);
      later();
    }),
    api.onLog((e) => {
      logs.push(e);
      later();
    }),
  ];
  const snap = await api.getSnapshot({});
  const st = s();
  st.setNode(snap.node);
  for (const i of snap.invitations) st.upsertInvitation(i);
  for (const p of snap.consents) st.addPrompt(p);
  for (const r of snap.receipts) st.addReceipt(r);
  for (const j of snap.training) st.upsertJob(j);
  st.addMetrics(snap.metrics);
  st.addOutbox(snap.outbox.filter((e) => !outbox.some((x) => x.id === e.id)));
  st.addLogs(snap.logs);
  st.setConnection({ state: 'open' });
  return () => {
    for (const off of offs) off();
    if (timer !== undefined) clearTimeout(timer);
    flush();
  };
}
