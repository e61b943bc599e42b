"""Burned-in text in pixels: frames, text-region pre-filter, OCR, matching, answer-key scoring."""
