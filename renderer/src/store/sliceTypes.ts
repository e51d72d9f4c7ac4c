import type { StateCreator } from 'zustand/vanilla';
import type { Api } from '../api/types';
import type { NodeSlice } from './nodeSlice';
import type { InvitationsSlice } from './invitationsSlice';
import type { ConsentSlice } from './consentSlice';
import type { TrainingSlice } from './trainingSlice';
import type { ActivitySlice } from './activitySlice';
import type { UiSlice } from './uiSlice';

/** The whole app state: one store built from these slices. */
export type AppState = NodeSlice & InvitationsSlice & ConsentSlice & TrainingSlice & ActivitySlice & UiSlice;

/** A slice creator; middleware is applied only at the root, in createAppStore. */
export type Slice<T> = StateCreator<AppState, [['zustand/subscribeWithSelector', never]], [], T>;

/** What slices need besides state: the API to send the owner's decisions to. */
export interface SliceDeps {
  readonly api: () => Api | undefined;
}
