"""Oracle for the face-match fixtures: runs dlib (PyPI dlib-bin, pinned in make-fixtures)
on the test photos (lossless PNG crops, so that both sides read the same pixels whatever
their JPEG decoder) and prints, as JSON, the numbers our Rust port must reproduce: the face
box dlib's own HOG detector finds, the 5 landmarks for that box and for a second box we
choose, the 150x150 chip get_face_chip(img, shape, 150, 0.25) makes (RGB bytes, base64),
the 128-d embedding of that chip, and two reference distances. Run by make-fixtures."""

import base64
import json
import sys

import dlib
import numpy as np
from PIL import Image, ImageOps

shape_model, resnet_model = sys.argv[1], sys.argv[2]
photos = sys.argv[3:]

detector = dlib.get_frontal_face_detector()
predictor = dlib.shape_predictor(shape_model)
resnet = dlib.face_recognition_model_v1(resnet_model)


def rgb(path):
    return np.asarray(Image.open(path).convert("RGB"))


def rect_list(r):
    return [r.left(), r.top(), r.right(), r.bottom()]


def one_face(img):
    # dlib's HOG detector also fires on a badge or a shadow now and then; the photos hold
    # one person each, so the largest box is theirs.
    found = detector(img, 1)
    if len(found) == 0:
        raise SystemExit("dlib found no face")
    return max(found, key=lambda r: r.area())


def describe(img, box):
    shape = predictor(img, box)
    chip = dlib.get_face_chip(img, shape, size=150, padding=0.25)
    from_chip = np.array(resnet.compute_face_descriptor(chip))
    from_image = np.array(resnet.compute_face_descriptor(img, shape))
    assert np.abs(from_chip - from_image).max() < 1e-5
    return {
        "box": rect_list(box),
        "landmarks": [[shape.part(i).x, shape.part(i).y] for i in range(5)],
        "chip_rgb_base64": base64.b64encode(np.ascontiguousarray(chip).tobytes()).decode(),
        "embedding": [float(v) for v in from_chip],
    }


def embedding(img):
    shape = predictor(img, one_face(img))
    return np.array(resnet.compute_face_descriptor(img, shape))


cases = []
for path in photos:
    img = rgb(path)
    hog = one_face(img)
    # A second box the detector did not give: 15 % larger and shifted right and down, so
    # the predictor's cascade starts from somewhere else.
    grow = int(hog.width() * 0.15)
    other = dlib.rectangle(hog.left() - grow // 2 + 6, hog.top() - grow // 2 + 4,
                           hog.right() + grow // 2 + 6, hog.bottom() + grow // 2 + 4)
    cases.append({
        "image": path.rsplit("/", 1)[-1],
        "pixel_sum": int(img.astype(np.uint64).sum()),
        "faces": [describe(img, hog), describe(img, other)],
    })

astronaut = rgb(photos[0])
mirrored = ImageOps.mirror(Image.fromarray(astronaut))
small = mirrored.resize((round(mirrored.width * 0.7), round(mirrored.height * 0.7)), Image.BILINEAR)
distances = {
    "first_vs_mirrored_scaled_0_7": float(np.linalg.norm(embedding(astronaut) - embedding(np.asarray(small)))),
    "first_vs_second": float(np.linalg.norm(embedding(astronaut) - embedding(rgb(photos[1])))),
}
json.dump({"dlib": dlib.__version__, "cases": cases, "distances": distances}, sys.stdout, indent=1)
