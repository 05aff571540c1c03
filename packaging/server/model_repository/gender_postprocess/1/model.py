"""gender_postprocess: classifier output plus face positions to result JSON.

The JSON has the schema of a local GenderLens result for one image: status,
the largest face's gender and score at the top level, the image size, and
every face with box, landmarks, detection score, gender, score, p_male and
the uncertain flag.
"""

import json

import numpy as np
import triton_python_backend_utils as pb_utils


def face_json(meta_row, probabilities, labels, male, uncertain_below):
    best = int(probabilities[1] > probabilities[0])
    score = float(probabilities[best])
    return {
        "box": [float(v) for v in meta_row[:4]],
        "landmarks": [[float(meta_row[4 + 2 * j]), float(meta_row[5 + 2 * j])] for j in range(5)],
        "detection_score": float(meta_row[14]),
        "gender": labels[best],
        "score": score,
        "p_male": float(probabilities[male]),
        "uncertain": score < uncertain_below,
    }


def area(face):
    left, top, right, bottom = face["box"]
    return (right - left) * (bottom - top)


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in config.get("parameters", {}).items()}
        self.labels = params.get("labels", "female,male").split(",")
        self.male = self.labels.index("male") if "male" in self.labels else 1
        self.uncertain_below = float(params.get("uncertain_below", "0.6"))

    def result(self, logits, meta, size):
        # LOGITS has a blank row for a photo without faces; FACE_META says how many are real.
        faces = [
            face_json(meta[i], logits[i], self.labels, self.male, self.uncertain_below)
            for i in range(meta.shape[0])
        ]
        result = {
            "status": "ok" if faces else "no_face",
            "width": int(size[0]),
            "height": int(size[1]),
            "faces": faces,
        }
        if faces:
            largest = max(faces, key=area)
            result.update(
                gender=largest["gender"], score=largest["score"], uncertain=largest["uncertain"]
            )
        return result

    def execute(self, requests):
        responses = []
        for request in requests:
            logits = pb_utils.get_input_tensor_by_name(request, "LOGITS").as_numpy()
            meta = pb_utils.get_input_tensor_by_name(request, "FACE_META").as_numpy()
            size = pb_utils.get_input_tensor_by_name(request, "IMAGE_SIZE").as_numpy()
            text = json.dumps(self.result(logits, meta, size))
            output = np.array([text.encode()], dtype=np.object_)
            responses.append(
                pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor("OUTPUT_JSON", output)])
            )
        return responses
