"""OpenCV on the frame_pipeline bench's frames: the same measurements, one thread.

Reads target/bench-frames/{card.png, card.jpg, ours.json} (written by
`cargo bench --bench frame_pipeline`), times OpenCV doing what our frame metrics do
(grey conversion, then inside the card outline: 4-neighbour Laplacian variance, mean and
standard deviation of the levels, share of levels >= 250) and the MJPEG decode, checks
that both compute the same values, and prints the ratios ours / OpenCV.
"""

import json
import sys
from pathlib import Path

import cv2
import numpy as np

from timing import median_ms


def main():
    frames = Path(sys.argv[1] if len(sys.argv) > 1 else "target/bench-frames")
    ours = json.loads((frames / "ours.json").read_text())
    cv2.setNumThreads(1)
    frame = cv2.imread(str(frames / "card.png"), cv2.IMREAD_COLOR)
    mjpeg = np.frombuffer((frames / "card.jpg").read_bytes(), np.uint8)
    left, top, width, height = ours["outline"]

    def metrics():
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        region = grey[top : top + height, left : left + width]
        laplacian = cv2.Laplacian(region, cv2.CV_16S, ksize=1)[1:-1, 1:-1]
        _, spread = cv2.meanStdDev(laplacian)
        mean, deviation = cv2.meanStdDev(region)
        _, saturated = cv2.threshold(region, 249, 255, cv2.THRESH_BINARY)
        return (
            spread[0][0] ** 2,
            mean[0][0] / 255.0 * 100.0,
            deviation[0][0],
            cv2.countNonZero(saturated) / region.size,
        )

    sharpness, brightness, contrast, glare = metrics()
    print(f"OpenCV {cv2.__version__}, one thread, median of 60 rounds, 1280x720")
    print("Same values (ours / OpenCV):")
    for name, theirs in [
        ("sharpness", sharpness),
        ("brightness", brightness),
        ("contrast", contrast),
        ("glare", glare),
    ]:
        print(f"  {name:<11} {ours[name]:12.4f} / {theirs:12.4f}")
    opencv_metrics = median_ms(metrics)
    opencv_decode = median_ms(lambda: cv2.imdecode(mjpeg, cv2.IMREAD_COLOR))
    print("Time (ours / OpenCV = ratio; at most 1.0 is the target for the metrics):")
    print(
        f"  frame metrics  {ours['metrics_ms']:7.3f} ms / {opencv_metrics:7.3f} ms"
        f" = {ours['metrics_ms'] / opencv_metrics:.2f}x"
    )
    print(
        f"  MJPEG decode   {ours['decode_ms']:7.3f} ms / {opencv_decode:7.3f} ms"
        f" = {ours['decode_ms'] / opencv_decode:.2f}x"
    )


if __name__ == "__main__":
    main()
