import type { NodeSlice } from './nodeSlice';
import type { InvitationsSlice } from './invitationsSlice';
import type { ConsentSlice } from './consentSlice';
import type { TrainingSlice } from './trainingSlice';
import type { ActivitySlice } from './activitySlice';
import type { UiSlice } from './uiSlice';

/** The whole app state: one store built from these slices. */
export type AppState = NodeSlice & InvitationsSlice & ConsentSlice & TrainingSlice & ActivitySlice & UiSlice;
