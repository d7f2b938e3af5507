#!/usr/bin/env python3
"""Writes spiral.csv: three interleaved spiral arms in the plane, 80 points each, the
classic toy data set for a small classifier (CS231n's, with less noise). Deterministic:
the same file on every machine (Python's `random` with a fixed seed). Columns: the point
x[1], x[2] and the one-hot label y[1], y[2], y[3].

    python3 examples/spiral/make_spiral.py > examples/spiral/spiral.csv
"""

import math
import random

POINTS_PER_CLASS = 80
CLASSES = 3
NOISE = 0.15  # standard deviation of the angle, in radians


def main():
    rng = random.Random(2024)
    print("x[1],x[2],y[1],y[2],y[3]")
    for k in range(CLASSES):
        for i in range(POINTS_PER_CLASS):
            r = i / (POINTS_PER_CLASS - 1)  # radius from 0 to 1
            # each arm turns through 4 radians, starting a third of the way round from the last
            t = 4.0 * k + 4.0 * r + rng.gauss(0.0, NOISE)
            # rounded to 4 places, + 0.0 turning -0.0 into 0.0
            x1, x2 = (round(r * f(t), 4) + 0.0 for f in (math.sin, math.cos))
            label = ",".join("1" if j == k else "0" for j in range(CLASSES))
            print(f"{x1:.4f},{x2:.4f},{label}")


if __name__ == "__main__":
    main()
