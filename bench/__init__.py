"""The scale benchmark (``make bench``): see bench/run.py."""
