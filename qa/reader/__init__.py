"""Trained extractive span reader; see span.py for the API and train.py for how it was trained."""
from .span import ChecksumError, Span, SpanReader, answerability, calibrate_threshold, calibrated_margin

__all__ = ["SpanReader", "Span", "ChecksumError", "answerability", "calibrate_threshold", "calibrated_margin"]
