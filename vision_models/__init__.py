"""Q&Aid vision models: plain PyTorch + MONAI, no Rasa import.

Each capability (prefilter, labeller, segmentation, vqa) has one typed Python API,
a training entry point and a model bundle (weights + verified config).
"""
