import type { StateCreator } from 'zustand/vanilla';
import type { Api } from '../api/types';

/**
 * A slice creator: it makes slice `T` and may read `S`, the part of the whole state it uses
 * (its own slice, and the slices it calls). Middleware is applied only at the root, in
 * createAppStore; the whole state is AppState (appState.ts).
 */
export type Slice<T, S = T> = StateCreator<S, [['zustand/subscribeWithSelector', never]], [], T>;

/** What slices need besides state: the API to send the owner's decisions to. */
export interface SliceDeps {
  readonly api: () => Api | undefined;
}
