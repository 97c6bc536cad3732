"""Reading weights: strict header parsing (and, later, hashing) that records facts for checks."""
