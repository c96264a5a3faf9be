"""Quality against physics: path-traced thin-lens truth (Mitsuba 3) versus renders from the
pinhole photo and its depth. `python -m dofcore.eval` writes the table of docs/quality.md.

Needs the dev extra (Mitsuba 3) to render truth; metrics and baselines need numpy alone.
"""
