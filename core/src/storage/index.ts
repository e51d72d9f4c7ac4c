// Storage: files written atomically, content-addressed blobs, a node's persistent state. It
// sits below the transport (net serves and fetches blobs from a BlobStore) and the runtime.
export { writeFileAtomic, syncDir } from './atomicFile.js';
export { BlobStore, assertBlobHash, type PartialBlob } from './blobStore.js';
export { NodeStore, type CheckpointFile, type SkippedCheckpoint } from './nodeStore.js';
export { encodeCheckedJson, decodeCheckedJson } from './checkedJson.js';
export { quarantineFile, type CorruptFileReport, type OnCorruptFile } from './quarantine.js';
