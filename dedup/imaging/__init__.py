"""The imaging core: pure functions with no Django.

Owns sniffing and safe decoding, renditions and thumbnails, perceptual hashes (one table of the eight
rotations and mirrors), embedded metadata, pair verification and comparison, index maths, grouping and
failure codes. It imports only the standard library, numpy, scipy, Pillow and OpenCV; everything else may import it.
"""
