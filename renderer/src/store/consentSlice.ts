import type { ConsentPrompt, DatasetPreview, LocalDataset, Receipt } from '../api/types';
import type { Slice, SliceDeps } from './sliceTypes';
import type { UiSlice } from './uiSlice';

/** Open consent questions, the receipts of past decisions, and a local dataset's preview. */
export interface ConsentSlice {
  prompts: ConsentPrompt[];
  receipts: Receipt[];
  preview: { source: LocalDataset; data?: DatasetPreview; loading: boolean; error?: string } | undefined;
  addPrompt(p: ConsentPrompt): void;
  closePrompt(id: string): void;
  addReceipt(r: Receipt): void;
  decideConsent(id: string, approve: boolean, localDataset?: LocalDataset): Promise<void>;
  loadPreview(source: LocalDataset): Promise<void>;
  clearPreview(): void;
  revokeReceipt(id: string): Promise<void>;
}

/** Creates the consent slice. */
export const createConsentSlice =
  ({ api }: SliceDeps): Slice<ConsentSlice, ConsentSlice & UiSlice> =>
  (set, get) => ({
    prompts: [],
    receipts: [],
    preview: undefined,
    addPrompt: (p) => set((s) => (s.prompts.some((x) => x.id === p.id) ? s : { prompts: [...s.prompts, p] })),
    closePrompt: (id) => set((s) => ({ prompts: s.prompts.filter((p) => p.id !== id) })),
    addReceipt: (r) => set((s) => (s.receipts.some((x) => x.id === r.id) ? s : { receipts: [...s.receipts, r].sort((a, b) => a.seq - b.seq) })),
    async decideConsent(id, approve, localDataset) {
      await get().guard('Could not record your decision', async () => {
        const receipt = await api()!.decideConsent({ id, approve, ...(localDataset ? { localDataset } : {}) });
        get().closePrompt(id);
        get().addReceipt(receipt);
        set({ preview: undefined });
      });
    },
    async loadPreview(source) {
      set({ preview: { source, loading: true } });
      try {
        const data = await api()!.previewDataset({ source });
        set({ preview: { source, data, loading: false } });
      } catch (err) {
        set({ preview: { source, loading: false, error: err instanceof Error ? err.message : String(err) } });
      }
    },
    clearPreview: () => set({ preview: undefined }),
    async revokeReceipt(id) {
      await get().guard('Could not revoke consent', async () => get().addReceipt(await api()!.revokeReceipt({ id })));
    },
  });

/**
 * Whether a receipt is the standing approval for its job and dataset, i.e. the newest
 * decision for that pair and an approval: only those can be revoked.
 */
export function isStandingApproval(receipts: readonly Receipt[], r: Receipt): boolean {
  if (r.decision !== 'approved') return false;
  const newest = receipts.filter((x) => x.request.job === r.request.job && x.request.dataset.hash === r.request.dataset.hash).reduce((a, b) => (b.seq > a.seq ? b : a), r);
  return newest.id === r.id;
}
