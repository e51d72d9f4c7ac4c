// Datasets and partitioners. The decode* functions and the partitioners are pure and run in
// a browser too; the load* functions read files and need Node.
export { apportion } from './apportion.js';
export { decodeCsv, type DecodeCsvOptions } from './decodeCsv.js';
export { decodeIdx, decodeIdxDataset, type IdxArray, type IdxClasses, type IdxPair } from './decodeIdx.js';
export { decodeMnistDigitFile, decodeMnistDigits, type MnistDigitFile } from './decodeMnistDigits.js';
export { loadCsv, type LoadCsvOptions } from './loadCsv.js';
export { loadDataset, type LoadDatasetOptions } from './loadDataset.js';
export { DEFAULT_FASHION_MNIST_DIR, FASHION_MNIST_CLASSES, loadFashionMnist } from './loadFashionMnist.js';
export { loadMnist, mnistDigitsDir, type LoadMnistOptions } from './loadMnist.js';
export { partition } from './partition.js';
export { partitionStats, type ClientStats, type PartitionStats } from './partitionStats.js';
export { readIdxFile } from './readIdxFile.js';
export { indicesByClass } from './indicesByClass.js';
export { splitTrainTest, type TrainTest } from './splitTrainTest.js';
export { sampleSize, subset } from './subset.js';
