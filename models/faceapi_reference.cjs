// Runs face-api.js@0.22.2 itself (tfjs-core, CPU backend) on 112x112 RGB
// chips, for check_faceapi_onnx.py to compare the ONNX rebuild with.
// usage: node faceapi_reference.cjs WEIGHTS_DIR CHIPS.f32
// CHIPS.f32 holds N chips as float32 byte values (0..255), NHWC; prints a
// JSON list of {age, gender, genderProbability}, one per chip.
const fs = require('fs');
const path = require('path');
const faceapi = require('face-api.js');
const tf = faceapi.tf;

(async () => {
  const [weightsDir, chipsFile] = process.argv.slice(2);
  await tf.setBackend('cpu');
  await tf.ready();
  const manifest = JSON.parse(
    fs.readFileSync(path.join(weightsDir, 'age_gender_model-weights_manifest.json')));
  const weights = fs.readFileSync(path.join(weightsDir, 'age_gender_model.bin'));
  const weightMap = tf.io.decodeWeights(
    weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    manifest[0].weights);
  const net = new faceapi.AgeGenderNet();
  net.loadFromWeightMap(weightMap);
  const raw = fs.readFileSync(chipsFile);
  const values = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const size = 112 * 112 * 3;
  const results = [];
  for (let i = 0; i < values.length / size; i++) {
    const chip = tf.tensor3d(values.slice(i * size, (i + 1) * size), [112, 112, 3]);
    results.push(await net.predictAgeAndGender(chip));
  }
  console.log(JSON.stringify(results));
})();
