"""Answer quality: combining several workers' answers to one item into a consensus."""
