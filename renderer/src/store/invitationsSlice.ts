import type { Invitation } from '../api/types';
import type { Slice, SliceDeps } from './sliceTypes';
import type { UiSlice } from './uiSlice';

/** Job sheets offered to this node, by id, and the owner's answers. */
export interface InvitationsSlice {
  invitations: Record<string, Invitation>;
  upsertInvitation(inv: Invitation): void;
  respondInvitation(id: string, accept: boolean): Promise<void>;
}

/** Creates the invitations slice. */
export const createInvitationsSlice =
  ({ api }: SliceDeps): Slice<InvitationsSlice, InvitationsSlice & UiSlice> =>
  (set, get) => ({
    invitations: {},
    upsertInvitation: (inv) => set((s) => ({ invitations: { ...s.invitations, [inv.id]: inv } })),
    async respondInvitation(id, accept) {
      await get().guard(accept ? 'Could not accept the invitation' : 'Could not decline the invitation', async () => get().upsertInvitation(await api()!.respondInvitation({ id, accept })));
    },
  });

/** Pending invitations first, then the newest. */
export function sortInvitations(list: readonly Invitation[]): Invitation[] {
  return [...list].sort((a, b) => Number(b.status === 'pending') - Number(a.status === 'pending') || b.receivedAt.localeCompare(a.receivedAt));
}
