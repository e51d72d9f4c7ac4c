import type { BackendChoice, Limits, NodeInfo, Roles } from '../api/types';
import type { Slice, SliceDeps } from './sliceTypes';
import type { UiSlice } from './uiSlice';

/** The node's identity, peers, offered roles, limits and backend. */
export interface NodeSlice {
  node: NodeInfo | undefined;
  setNode(node: NodeInfo): void;
  setRoles(roles: Roles): Promise<void>;
  setLimits(limits: Limits): Promise<void>;
  pinBackend(choice: BackendChoice): Promise<void>;
}

/** Creates the node slice. */
export const createNodeSlice =
  ({ api }: SliceDeps): Slice<NodeSlice, NodeSlice & UiSlice> =>
  (set, get) => ({
    node: undefined,
    setNode: (node) => set({ node }),
    async setRoles(roles) {
      await get().guard('Could not change the roles', async () => get().setNode(await api()!.setRoles(roles)));
    },
    async setLimits(limits) {
      await get().guard('Could not change the limits', async () => get().setNode(await api()!.setLimits(limits)));
    },
    async pinBackend(choice) {
      await get().guard('Could not switch the backend', async () => {
        const backend = await api()!.pinBackend({ choice });
        const node = get().node;
        if (node) set({ node: { ...node, backend } });
      });
    },
  });
