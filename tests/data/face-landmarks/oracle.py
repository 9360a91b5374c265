"""Google's own TensorFlow Lite interpreter (LiteRT, reference kernels: no XNNPACK
delegate) on the face and iris landmark models, for tests/tflite.rs to compare with.

    python oracle.py FACE_MODEL IRIS_MODEL DETECTOR_MODEL DETECTOR_INPUT.png FACE.png... > fixtures.json

For each face crop (192×192 RGB): the face model's 1404 outputs (468 landmarks, x y z
in the crop's pixels) and its face-presence logit. The eye crop (64×64) is cut around
the first landmark's eye from the face model's own landmarks (33 and 133: the corners
of one eye), saved beside the face as NAME-eye.png, and the iris model's 213 + 15 outputs
are recorded for it. Inputs are the pixels / 255, as MediaPipe's graphs feed both models.

The full-range face detector (192×192 RGB, pixels / 127.5 - 1 as its graph feeds it)
on DETECTOR_INPUT.png: all 2304 score logits, and the 16 box values of every anchor
whose logit is above -1 (the candidates the decoding looks at).
"""
import json
import sys

import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType
from PIL import Image


def interpreter(path):
    model = Interpreter(
        model_path=path,
        experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
    )
    model.allocate_tensors()
    return model


def run(model, pixels, scale=255.0, shift=0.0):
    tensor = (np.asarray(pixels, dtype=np.float32) / scale - shift)[np.newaxis]
    model.set_tensor(model.get_input_details()[0]["index"], tensor)
    model.invoke()
    return [model.get_tensor(out["index"]).reshape(-1).tolist() for out in model.get_output_details()]


face_model = interpreter(sys.argv[1])
iris_model = interpreter(sys.argv[2])
detector = interpreter(sys.argv[3])
fixtures = {"face": {}, "iris": {}, "detector": {}}
picture = Image.open(sys.argv[4]).convert("RGB")
assert picture.size == (192, 192), sys.argv[4]
boxes, scores = run(detector, picture, 127.5, 1.0)
candidates = {str(i): boxes[16 * i:16 * i + 16] for i, s in enumerate(scores) if s > -1.0}
fixtures["detector"][sys.argv[4]] = {"scores": scores, "boxes": candidates}
for path in sys.argv[5:]:
    face = Image.open(path).convert("RGB")
    assert face.size == (192, 192), path
    landmarks, presence = run(face_model, face)
    fixtures["face"][path] = {"landmarks": landmarks, "presence_logit": presence[0]}
    points = np.array(landmarks).reshape(468, 3)
    corner_a, corner_b = points[33, :2], points[133, :2]
    centre = (corner_a + corner_b) / 2
    half = np.linalg.norm(corner_a - corner_b)
    box = tuple(int(round(v)) for v in (centre[0] - half, centre[1] - half, centre[0] + half, centre[1] + half))
    eye_path = path.replace(".png", "-eye.png")
    face.crop(box).resize((64, 64), Image.BILINEAR).save(eye_path, optimize=True)
    contours, iris = run(iris_model, Image.open(eye_path).convert("RGB"))
    fixtures["iris"][eye_path] = {"contours": contours, "iris": iris}
json.dump(fixtures, sys.stdout, indent=1)
