"""gender_postprocess: the face models' outputs plus face positions to result JSON.

The JSON has the schema of a local GenderLens result for one image: status,
the largest face's gender, score, uncertain flag and age at the top level,
the image size, the names of the models that answered, and every face with
box, landmarks, detection score, gender, score, p_male, the uncertain flag,
age and each model's own answer.

The models' answers are combined by GenderLens's rule, in float32 as the
app computes it:

- gender-v1's p(male) is the mean over the aligned chip and its mirror
  image; face-api's p(male) and age are the means over the square crop and
  its mirror image; age-v1's age is the expected age, summed in class order;
- the face's p(male) is the mean of the two models' p(male), and its age
  the mean of the two ages, to one decimal (an age below 0 counts as 0);
- the label is male above 1/2; the face is uncertain when its label's
  probability is below `uncertain_below` or when the two models' p(male)
  fall on different sides of 1/2.
"""

import json
import math

import numpy as np
import triton_python_backend_utils as pb_utils

# The age each of age-v1's classes stands for: 0 counts as a quarter year.
AGE_WEIGHTS = np.array([0.25] + list(range(1, 81)), dtype=np.float32)
ONE = np.float32(1)
TWO = np.float32(2)
HALF = np.float32(0.5)
TEN = np.float32(10)


class ModelFault(Exception):
    pass


def mean(a, b):
    return (np.float32(a) + np.float32(b)) / TWO


def probability(p):
    """A model's p(male); anything else means the model misbehaved."""
    if not (math.isfinite(p) and -1e-3 <= p <= 1.0 + 1e-3):
        raise ModelFault(f"a model returned p(male) {float(p)}, which is not a probability")
    return np.clip(p, np.float32(0), ONE)


def years(age):
    """A model's age; a regression that strays below 0 is still a very young face."""
    if not math.isfinite(age):
        raise ModelFault(f"a model returned age {float(age)}, which is not a number of years")
    return max(np.float32(age), np.float32(0))


def expected_age(probabilities):
    total = np.float32(0)
    for weight, p in zip(AGE_WEIGHTS, probabilities.astype(np.float32)):
        total = total + weight * p
    return total


def one_decimal(age):
    """Years to a tenth, rounding half away from zero, as GenderLens does."""
    tenths = float(np.float32(age) * TEN)
    return math.copysign(math.floor(abs(tenths) + 0.5), tenths) / 10


def area(face):
    left, top, right, bottom = face["box"]
    return (right - left) * (bottom - top)


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in config.get("parameters", {}).items()}
        self.male = params.get("labels", "female,male").split(",").index("male")
        self.faceapi_male = params.get("faceapi_labels", "male,female").split(",").index("male")
        self.gender_name = params.get("gender_model_name", "gender-v1")
        self.age_name = params.get("age_model_name", "age-v1")
        self.faceapi_name = params.get("faceapi_model_name", "faceapi-agegender")
        self.uncertain_below = np.float32(params.get("uncertain_below", "0.6"))

    def face_json(self, meta_row, dlib_p, dlib_age, faceapi_p, faceapi_age):
        p_male = mean(dlib_p, faceapi_p)
        male = p_male > HALF
        score = p_male if male else ONE - p_male
        disagree = (dlib_p > HALF) != (faceapi_p > HALF)
        return {
            "box": [float(v) for v in meta_row[:4]],
            "landmarks": [
                [float(meta_row[4 + 2 * j]), float(meta_row[5 + 2 * j])] for j in range(5)
            ],
            "detection_score": float(meta_row[14]),
            "gender": "male" if male else "female",
            "score": float(score),
            "p_male": float(p_male),
            "uncertain": bool(score < self.uncertain_below or disagree),
            "age": one_decimal(mean(dlib_age, faceapi_age)),
            "models": {
                self.age_name: {"age": one_decimal(dlib_age)},
                self.faceapi_name: {"p_male": float(faceapi_p), "age": one_decimal(faceapi_age)},
                self.gender_name: {"p_male": float(dlib_p)},
            },
        }

    def result(self, logits, age_probabilities, faceapi_gender, faceapi_age, meta, size):
        # A photo without faces brings a blank row from each model; FACE_META
        # says how many faces are real.
        count = meta.shape[0]
        expected = {
            "gender_model": (logits, 2 * count),
            "age_model": (age_probabilities, count),
            "faceapi_model (GENDER)": (faceapi_gender, 2 * count),
            "faceapi_model (AGE)": (faceapi_age, 2 * count),
        }
        for name, (rows, wanted) in expected.items():
            if rows.shape[0] < wanted:
                raise ModelFault(f"{name} answered {rows.shape[0]} rows for {wanted} inputs")
        faces = []
        for i in range(count):
            mirror = count + i
            dlib_p = probability(mean(logits[i, self.male], logits[mirror, self.male]))
            dlib_age = years(expected_age(age_probabilities[i]))
            male = self.faceapi_male
            faceapi_p = probability(mean(faceapi_gender[i, male], faceapi_gender[mirror, male]))
            faceapi_years = years(mean(faceapi_age[i, 0], faceapi_age[mirror, 0]))
            faces.append(self.face_json(meta[i], dlib_p, dlib_age, faceapi_p, faceapi_years))
        result = {
            "status": "ok" if faces else "no_face",
            "width": int(size[0]),
            "height": int(size[1]),
            "faces": faces,
        }
        if faces:
            largest = max(faces, key=area)
            result.update(
                gender=largest["gender"],
                score=largest["score"],
                uncertain=largest["uncertain"],
                age=largest["age"],
                models=sorted(set().union(*(face["models"] for face in faces))),
            )
        return result

    def execute(self, requests):
        responses = []
        for request in requests:
            tensors = [
                pb_utils.get_input_tensor_by_name(request, name).as_numpy()
                for name in (
                    "LOGITS",
                    "AGE_PROBABILITIES",
                    "FACEAPI_GENDER",
                    "FACEAPI_AGE",
                    "FACE_META",
                    "IMAGE_SIZE",
                )
            ]
            try:
                text = json.dumps(self.result(*tensors))
            except ModelFault as exc:
                responses.append(pb_utils.InferenceResponse(error=pb_utils.TritonError(str(exc))))
                continue
            output = np.array([text.encode()], dtype=np.object_)
            responses.append(
                pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor("OUTPUT_JSON", output)])
            )
        return responses
