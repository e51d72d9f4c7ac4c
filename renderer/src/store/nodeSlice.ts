import type { BackendChoice, Limits, NodeInfo, Roles } from '../api/types';
import type { Slice, SliceDeps } from './sliceTypes';
import type { UiSlice } from './uiSlice';

/** Where joining a network stands: the Node screen shows it under the form. */
export type NetworkJoin = { state: 'idle' } | { state: 'joining' } | { state: 'joined'; message: string } | { state: 'failed'; message: string };

/** The node's identity, peers, offered roles, limits, backend and networks. */
export interface NodeSlice {
  node: NodeInfo | undefined;
  networkJoin: NetworkJoin;
  /** Joins the network a pasted file or invite link describes; resolves whether it worked. */
  joinNetwork(text: string): Promise<boolean>;
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
    networkJoin: { state: 'idle' },
    setNode: (node) => set({ node }),
    async joinNetwork(text) {
      set({ networkJoin: { state: 'joining' } });
      try {
        const node = await api()!.joinNetwork({ text });
        const joined = node.networks?.at(-1)?.name ?? 'the network';
        set({ node, networkJoin: { state: 'joined', message: `Joined ${joined}.` } });
        return true;
      } catch (err) {
        // The node's one-line reason, without the transport's code prefix.
        const message = (err instanceof Error ? err.message : String(err)).replace(/^[A-Z_]+: /, '');
        set({ networkJoin: { state: 'failed', message } });
        return false;
      }
    },
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
