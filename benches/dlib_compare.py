"""dlib on the same chips as `cargo bench --bench face_match`, one core, same run.

Reads tests/data/face-match/fixtures.json (the chips dlib made) and
target/bench-face-match.json (our figure), times dlib's face_recognition_model_v1 on each
chip (compute_face_descriptor on an aligned chip: the network only, as ours is timed),
and prints the ratio ours / dlib.
"""

import base64
import json
import sys

import dlib
import numpy as np

from timing import median_ms


def main():
    resnet_model, fixtures_path, ours_path = sys.argv[1:4]
    fixtures = json.load(open(fixtures_path))
    ours = json.load(open(ours_path))
    chips = [
        np.frombuffer(base64.b64decode(face["chip_rgb_base64"]), np.uint8).reshape(150, 150, 3)
        for case in fixtures["cases"]
        for face in case["faces"]
    ]
    net = dlib.face_recognition_model_v1(resnet_model)
    rounds = ours["rounds"]

    def all_chips():
        for chip in chips:
            net.compute_face_descriptor(chip)

    theirs = median_ms(all_chips, rounds) / len(chips)
    print(f"dlib {dlib.__version__} (dlib-bin), one core, median of {rounds} rounds over {len(chips)} chips")
    print(
        f"  embedding  ours {ours['embedding_ms']:7.2f} ms / dlib {theirs:7.2f} ms"
        f" = {ours['embedding_ms'] / theirs:.2f}x (target: at most 1.0x)"
    )


if __name__ == "__main__":
    main()
