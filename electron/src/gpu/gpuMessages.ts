import { z } from 'zod';

// The messages about the GPU window between the node's utility process and main. The node
// host decides whether it wants a window (the owner's pin and GPU limit); main only opens it
// and hands the two ends of a MessageChannelMain to the window and to the node.

/** The IPC channel main posts the window's end of the port on; the preload forwards it to the page. */
export const GPU_PORT_CHANNEL = 'canopy:gpu-port';

/** Which backend the window should try first: 'auto', or the owner's GPU pin. */
export const GpuWindowBackend = z.enum(['auto', 'webgpu', 'webgl']);
export type GpuWindowBackend = z.infer<typeof GpuWindowBackend>;

/** The node host asks main to open the GPU window, or to close it (the node will not use it). */
export const GpuWindowRequest = z.discriminatedUnion('t', [z.strictObject({ t: z.literal('gpu:open'), backend: GpuWindowBackend }), z.strictObject({ t: z.literal('gpu:close') })]);
export type GpuWindowRequest = z.infer<typeof GpuWindowRequest>;

/** Main's answer to 'gpu:open': the node's end of the port travels with it (or `error` says why not). */
export const GpuWindowAnswer = z.strictObject({ t: z.literal('gpu:port'), error: z.string().max(500).optional() });
export type GpuWindowAnswer = z.infer<typeof GpuWindowAnswer>;
