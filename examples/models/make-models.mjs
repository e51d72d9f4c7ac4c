// Writes the example model.json files of this folder with tfjs-layers itself, so that they are
// exactly what `model.toJSON()` gives (the `modelTopology` Keras and tensorflowjs_converter
// also write). Run from the repository root: node examples/models/make-models.mjs
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';

function save(file, model) {
  const topology = model.toJSON(null, false);
  writeFileSync(new URL(file, import.meta.url), `${JSON.stringify({ format: 'layers-model', generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`, modelTopology: topology }, null, 1)}\n`);
  console.log(`${file}: ${model.layers.length} layers, ${model.countParams()} parameters`);
}

// LeNet-5 (LeCun et al. 1998) for 28×28 greyscale images: the first convolution pads to keep 28×28.
const lenet = tf.sequential({ name: 'lenet5' });
lenet.add(tf.layers.conv2d({ name: 'c1', inputShape: [28, 28, 1], filters: 6, kernelSize: 5, padding: 'same', activation: 'relu' }));
lenet.add(tf.layers.averagePooling2d({ name: 's2', poolSize: 2 }));
lenet.add(tf.layers.conv2d({ name: 'c3', filters: 16, kernelSize: 5, activation: 'relu' }));
lenet.add(tf.layers.averagePooling2d({ name: 's4', poolSize: 2 }));
lenet.add(tf.layers.flatten({ name: 'flatten' }));
lenet.add(tf.layers.dense({ name: 'f5', units: 120, activation: 'relu' }));
lenet.add(tf.layers.dense({ name: 'f6', units: 84, activation: 'relu' }));
lenet.add(tf.layers.dense({ name: 'output', units: 10, activation: 'softmax' }));
save('lenet5.json', lenet);

// A small residual CNN (functional API): one residual block whose skip joins through Add.
const input = tf.input({ name: 'image', shape: [28, 28, 1] });
const stem = tf.layers.conv2d({ name: 'stem', filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(input);
const pooled = tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }).apply(stem);
const a = tf.layers.conv2d({ name: 'res_conv1', filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(pooled);
const b = tf.layers.conv2d({ name: 'res_conv2', filters: 8, kernelSize: 3, padding: 'same' }).apply(a);
const bn = tf.layers.batchNormalization({ name: 'res_bn' }).apply(b);
const sum = tf.layers.add({ name: 'res_add' }).apply([pooled, bn]);
const relu = tf.layers.activation({ name: 'res_relu', activation: 'relu' }).apply(sum);
const pool2 = tf.layers.maxPooling2d({ name: 'pool2', poolSize: 2 }).apply(relu);
const wide = tf.layers.conv2d({ name: 'conv3', filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(pool2);
const gap = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(wide);
const out = tf.layers.dense({ name: 'output', units: 10, activation: 'softmax' }).apply(gap);
save('resnet-small.json', tf.model({ name: 'resnet_small', inputs: input, outputs: out }));
